package rawmime

import (
	"bytes"
	"testing"
)

func FuzzParseWalk(f *testing.F) {
	f.Add([]byte(nested))
	f.Add([]byte(crlf(nested)))
	f.Add(deepNest(3))
	f.Add([]byte("Subject: x\r\n\r\nbody"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\n\n--a\n\nx\n--a\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := Parse(raw)
		if err != nil {
			return
		}
		if len(e.Header)+len(e.Body) > len(raw) || !bytes.HasPrefix(raw, e.Header) || !bytes.HasSuffix(raw, e.Body) {
			t.Fatalf("header %q and body %q are not the two ends of %q", e.Header, e.Body, raw)
		}
		_ = Walk(e, 8, 200, func(path []int, p *Entity) error {
			if !bytes.Contains(raw, p.Raw) {
				t.Fatalf("part %v is not a slice of the input", path)
			}
			return nil
		})
	})
}

func FuzzSplitMultipart(f *testing.F) {
	f.Add([]byte("--b\n\none\n--b--\n"), "b")
	f.Add([]byte("pre\r\n--b \r\n\r\none\r\n--b--\r\n"), "b")
	f.Add([]byte("--b\n--b\n--b--"), "b")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		parts, err := SplitMultipart(body, boundary, 50)
		if err != nil {
			return
		}
		if len(parts) > 50 {
			t.Fatalf("%d parts", len(parts))
		}
		for _, p := range parts {
			if !bytes.Contains(body, p) {
				t.Fatalf("part %q not in body", p)
			}
		}
		c := Canonical(body)
		if bytes.Contains(bytes.ReplaceAll(c, []byte("\r\n"), nil), []byte("\n")) {
			t.Fatalf("bare LF left in %q", c)
		}
	})
}
