package queue

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestEnqueueSizes checks that a new entry is the same file whichever way
// writeNew takes (the body held in memory, or streamed after a placeholder
// line rewritten in place): one metadata line whose ID carries the digest of
// list, recipient, time and body, then the body byte for byte, and no other
// file created or left in the queue.
func TestEnqueueSizes(t *testing.T) {
	for _, tt := range []struct {
		name  string
		size  int
		limit int64
		err   error
	}{
		{"one byte", 1, 0, nil},
		{"small", 10 << 10, 0, nil},
		{"just under the in-memory size", inMemoryBody - 1, 0, nil},
		{"the in-memory size", inMemoryBody, 0, nil},
		{"just over the in-memory size", inMemoryBody + 1, 0, nil},
		{"streamed", 3*inMemoryBody + 12345, 0, nil},
		{"streamed at the limit", 2*inMemoryBody + 7, 2*inMemoryBody + 7, nil},
		{"streamed over the limit", 2*inMemoryBody + 8, 2*inMemoryBody + 7, ErrTooLarge},
		{"in memory over the limit", 1001, 1000, ErrTooLarge},
		{"empty", 0, 0, ErrEmpty},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Open(t.TempDir(), In)
			if err != nil {
				t.Fatal(err)
			}
			body := make([]byte, tt.size)
			for i := range body {
				body[i] = byte('a' + i%23)
			}
			received := time.Unix(1700000000, 123456789).UTC()
			meta := &Meta{List: "team@lists.test", Recipient: "team@lists.test", Sender: "a@example.org", Received: received}
			// Every file the queue creates passes PointCreate: a new entry
			// is one temp file, renamed into place, whatever its size.
			creates := 0
			FaultHook = func(point string) error {
				if point == PointCreate {
					creates++
				}
				return nil
			}
			defer func() { FaultHook = nil }()
			// A reader that hands out odd-sized pieces, as a pipe does.
			name, err := q.Enqueue(meta, bufio.NewReaderSize(bytes.NewReader(body), 4099), tt.limit)
			FaultHook = nil
			if creates != 1 {
				t.Errorf("Enqueue created %d files, want 1 (the entry's temp file)", creates)
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("Enqueue error = %v, want %v", err, tt.err)
			}
			if tt.err != nil {
				if got := files(t, q); len(got) != 0 {
					t.Fatalf("files after a refused enqueue = %v", got)
				}
				if meta.ID != "" {
					t.Fatalf("refused enqueue left meta.ID = %q", meta.ID)
				}
				return
			}
			h := sha256.New()
			fmt.Fprintf(h, "%s\x00%s\x00%d\x00", meta.List, meta.Recipient, received.UnixNano())
			h.Write(body)
			digest := hex.EncodeToString(h.Sum(nil)[:20])
			if got := digestOf(name); got != digest {
				t.Fatalf("entry digest = %s, want %s", got, digest)
			}
			if got := files(t, q); len(got) != 1 || got[0] != name+extMsg {
				t.Fatalf("files after enqueue = %v, want [%s]", got, name+extMsg)
			}
			raw, err := os.ReadFile(filepath.Join(q.Dir, name+extMsg))
			if err != nil {
				t.Fatal(err)
			}
			line, rest, ok := bytes.Cut(raw, []byte("\n"))
			if !ok {
				t.Fatal("entry has no metadata line")
			}
			var m Meta
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("metadata line %q: %v", line, err)
			}
			if want := NewID(received, digest); m.ID != want || meta.ID != want {
				t.Fatalf("stored id %q, caller's id %q, want %q", m.ID, meta.ID, want)
			}
			if want, _ := json.Marshal(meta); !bytes.Equal(line, want) {
				t.Fatalf("metadata line = %s, want %s", line, want)
			}
			if !bytes.Equal(rest, body) {
				t.Fatalf("body differs: %d bytes stored, %d sent", len(rest), len(body))
			}
			e, err := q.Claim(name)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Body()
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("claimed body: %d bytes, err %v", len(got), err)
			}
		})
	}
}
