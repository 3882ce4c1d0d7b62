package handlers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cloister/mailmsg"
	"cloister/queue"
)

// strictResolver says every domain publishes p=reject.
type strictResolver struct{}

func (strictResolver) LookupTXT(context.Context, string) ([]string, error) {
	return []string{"v=DMARC1; p=reject"}, nil
}

// FuzzRun runs every handler over arbitrary messages with the settings
// picked by flags: no input may panic or hang, and a post the pipeline
// accepts must come out as a message that parses again.
func FuzzRun(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.eml")
	for i, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(i))
	}
	f.Add([]byte("Subject: x\n\n"), uint8(0xff))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=a\n\n--a--\n"), uint8(0x7f))
	f.Fuzz(func(t *testing.T, data []byte, flags uint8) {
		msg, err := mailmsg.Parse(data)
		if err != nil {
			return
		}
		ctx := newTestContext(t, []byte("Subject: x\n\n"), caseConfig{})
		ctx.Msg = msg
		s := &ctx.List.Settings
		s.Anonymous = flags&1 != 0
		s.StripOriginalSignature = flags&2 != 0
		s.Footer = "footer é"
		if flags&4 != 0 {
			s.ContentFilter = "text/plain image/* html-to-text"
		}
		s.ReplyTo = []string{"none", "list", "sender", "x@example.net"}[flags>>3&3]
		s.DMARCMitigation = []string{"none", "munge_from", "wrap_message", "munge_from"}[flags>>5&3]
		if flags&0x80 != 0 {
			ctx.Meta = &queue.Meta{Encryption: "pgp-mime"}
		}
		ctx.Resolver = strictResolver{}
		ctx.DMARCTimeout = time.Second
		if _, err := Run(DefaultPipeline(), ctx); err != nil {
			return
		}
		out := ctx.Msg.Bytes()
		if _, err := mailmsg.Parse(out); err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, fmt.Sprintf("%.2000q", out))
		}
	})
}
