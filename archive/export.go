package archive

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/safeio"
)

// WriteMbox appends one message to an mbox in the mboxrd form: a "From "
// line with the envelope sender and date, the message with LF line endings
// and every line matching ^>*From  quoted with one more '>', then a blank
// line.
func WriteMbox(w io.Writer, msg []byte, sender string, t time.Time) error {
	if sender == "" {
		sender = "MAILER-DAEMON"
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "From %s %s\n", sender, t.UTC().Format("Mon Jan _2 15:04:05 2006"))
	msg = bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i+1], msg[i+1:]
		} else {
			msg = nil
		}
		if bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From ")) {
			bw.WriteByte('>')
		}
		bw.Write(line)
		if line[len(line)-1] != '\n' {
			bw.WriteByte('\n')
		}
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// ExportMbox writes every archived message to w as an mbox (mboxrd),
// oldest first, decrypting encrypted ones with key (ErrEncrypted when key
// is nil and the archive holds one). It returns the number written.
func (s *Store) ExportMbox(w io.Writer, key *openpgp.Entity) (int, error) {
	es, err := s.Entries()
	if err != nil {
		return 0, err
	}
	for i, e := range es {
		msg, err := s.Read(e, key)
		if err != nil {
			return i, err
		}
		_, from, _ := HeaderSummary(msg)
		if err := WriteMbox(w, msg, from, e.Time); err != nil {
			return i, fmt.Errorf("write mbox: %w", err)
		}
	}
	return len(es), nil
}

// ExportMaildir writes every archived message, decrypted with key when
// encrypted, into the Maildir dir (created if missing, new/ subfolder),
// each file written atomically and named after its entry. It returns the
// number written.
func (s *Store) ExportMaildir(dir string, key *openpgp.Entity) (int, error) {
	es, err := s.Entries()
	if err != nil {
		return 0, err
	}
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return 0, fmt.Errorf("create maildir %s: %w", dir, err)
		}
	}
	for i, e := range es {
		msg, err := s.Read(e, key)
		if err != nil {
			return i, err
		}
		err = safeio.WriteFunc(filepath.Join(dir, "new", e.ID+plainSuffix), 0o600, func(w io.Writer) error {
			_, err := w.Write(msg)
			return err
		})
		if err != nil {
			return i, fmt.Errorf("export to maildir: %w", err)
		}
	}
	return len(es), nil
}
