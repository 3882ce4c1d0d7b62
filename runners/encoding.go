package runners

import (
	"bytes"
	"encoding/json"
	"io"

	"cloister/queue"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func jsonMeta(m *queue.Meta) ([]byte, error) { return json.Marshal(m) }
