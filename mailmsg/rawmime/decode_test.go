package rawmime

import (
	"bytes"
	"encoding/base64"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	for _, tt := range []struct {
		name    string
		cte     string
		body    string
		max     int64
		want    string
		wantErr error // nil: no error; errAny: some error
	}{
		{"none", "", "a=3Db", 0, "a=3Db", nil},
		{"7bit", "7bit", "a=3Db", 0, "a=3Db", nil},
		{"8bit, not bounded", "8bit", "héllo", 2, "héllo", nil},
		{"binary", "binary", "\x00\x01", 0, "\x00\x01", nil},
		{"quoted-printable", "quoted-printable", "a=3Db=\r\nc\r\n", 0, "a=bc\r\n", nil},
		{"case and blanks", " Quoted-Printable ", "a=3Db", 0, "a=b", nil},
		{"base64 with line breaks", "base64", "aGVs\r\nbG8g\n d29y bGQ=\r\n", 0, "hello world", nil},
		{"base64 at the bound", "BASE64", "aGVsbG8=", 5, "hello", nil},
		{"base64 beyond the bound", "base64", "aGVsbG8=", 4, "hell", ErrTooLarge},
		{"quoted-printable beyond the bound", "quoted-printable", "abcdef", 3, "abc", ErrTooLarge},
		{"malformed base64", "base64", "aGVsbG8g!!!!", 0, "hello ", errAny},
		{"malformed quoted-printable", "quoted-printable", "ab\x00cd", 0, "ab", errAny},
		{"unknown", "x-uuencode", "begin 644 f", 0, "begin 644 f", ErrUnknownEncoding},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.cte, []byte(tt.body), tt.max)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Decode: %v", err)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("Decode error = %v, want %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Fatalf("Decode = %q, want %q", got, tt.want)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestDecodeWithRoom: DecodeWithRoom decodes as Decode does, errors
// included, into a buffer of its own that ends with the decoding after the
// room asked for; the encodings Decode leaves as they are give no buffer
// and the body itself.
func TestDecodeWithRoom(t *testing.T) {
	for _, tt := range []struct {
		name, cte, body string
		max             int64
		front           int
		decodes         bool // a buffer of its own
	}{
		{"none", "", "a=3Db", 0, 64, false},
		{"binary", "binary", "\x00\x01", 0, 64, false},
		{"unknown", "x-uuencode", "begin 644 f", 0, 64, false},
		{"base64", "base64", "aGVs\r\nbG8g\n d29y bGQ=\r\n", 0, 64, true},
		{"base64, no room", "base64", "aGVsbG8=", 0, 0, true},
		{"base64 beyond the bound", "base64", "aGVsbG8=", 4, 16, true},
		{"malformed base64", "base64", "aGVsbG8g!!!!", 0, 16, true},
		{"quoted-printable", "quoted-printable", "a=3Db=\r\nc\r\n", 0, 1000, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			want, wantErr := Decode(tt.cte, body, tt.max)
			got, buf, err := DecodeWithRoom(tt.cte, body, tt.max, tt.front)
			if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("error %v, Decode's %v", err, wantErr)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("decoded %q, Decode's %q", got, want)
			}
			if !tt.decodes {
				if buf != nil || len(got) > 0 && &got[0] != &body[0] {
					t.Fatalf("a buffer (%q) or a copy for an encoding left as it is", buf)
				}
				return
			}
			if len(buf) != tt.front+len(got) || len(got) > 0 && &buf[tt.front] != &got[0] {
				t.Fatalf("buffer of %d bytes for %d of room and %d decoded, or not ending with the decoding", len(buf), tt.front, len(got))
			}
		})
	}
}

func TestTransferEncoding(t *testing.T) {
	for _, tt := range []struct{ raw, want string }{
		{"Subject: x\r\n\r\nbody", "7bit"},
		{"Content-Transfer-Encoding:  Base64 \r\n\r\naGk=", "base64"},
		{"Content-Transfer-Encoding: quoted-printable\n\nhi=\n", "quoted-printable"},
	} {
		e, err := Parse([]byte(tt.raw))
		if err != nil {
			t.Fatal(err)
		}
		if got := e.TransferEncoding(); got != tt.want {
			t.Errorf("TransferEncoding of %q = %q, want %q", tt.raw, got, tt.want)
		}
	}
	e, _ := Parse([]byte("Content-Transfer-Encoding: base64\r\n\r\naGk=\r\n"))
	if b, err := e.DecodedBody(0); err != nil || string(b) != "hi" {
		t.Errorf("DecodedBody = %q, %v", b, err)
	}
}

// TestOneTransferDecoder fails when code outside rawmime decodes
// quoted-printable or base64 message bodies itself (with a
// quotedprintable.Reader or a base64 stream decoder) instead of calling
// Decode.
func TestOneTransferDecoder(t *testing.T) {
	fset := token.NewFileSet()
	root := filepath.Join("..", "..")
	home := filepath.Join(root, "mailmsg", "rawmime")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || (strings.HasPrefix(n, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || filepath.Dir(path) == home {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			s, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := s.X.(*ast.Ident); ok && (x.Name == "quotedprintable" && s.Sel.Name == "NewReader" || x.Name == "base64" && s.Sel.Name == "NewDecoder") {
				t.Errorf("%s: decodes a transfer encoding itself (%s.%s); call rawmime.Decode", fset.Position(s.Pos()), x.Name, s.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDecodeSizesBuffer: a large base64 or quoted-printable part is decoded
// into a buffer sized from the encoded length, not grown by doubling (which
// holds up to twice the part and copies it at each step).
func TestDecodeSizesBuffer(t *testing.T) {
	plain := bytes.Repeat([]byte("a line of the post, 32 bytes...\r\n"), 3<<20/33)
	b64 := base64.StdEncoding.EncodeToString(plain)
	var lines strings.Builder
	for i := 0; i < len(b64); i += 76 {
		lines.WriteString(b64[i:min(i+76, len(b64))] + "\r\n")
	}
	for _, tt := range []struct {
		name, cte, body string
		max             int64
	}{
		{"base64", "base64", lines.String(), 0},
		{"base64 under a bound", "base64", lines.String(), 64 << 20},
		{"quoted-printable", "quoted-printable", string(plain), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got, err := Decode(tt.cte, body, tt.max)
			runtime.ReadMemStats(&after)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("Decode: %v, %d bytes, want %d", err, len(got), len(plain))
			}
			// The encoded length bounds the decoding within 3% (base64's
			// line breaks); doubling takes twice the part and more.
			if took, limit := after.TotalAlloc-before.TotalAlloc, uint64(len(plain))*21/20; took > limit {
				t.Errorf("decoding %d bytes took %d bytes of buffers, want at most %d", len(got), took, limit)
			}
		})
	}
}

// BenchmarkDecodeBase64 decodes a 26 MB base64 part, as S/MIME's
// enveloped-data arrives for a 25 MB post (B/op: the buffers it takes).
func BenchmarkDecodeBase64(b *testing.B) {
	raw := bytes.Repeat([]byte{0x5a, 0xa5, 0x3c}, 26<<20/3)
	body := []byte(base64.StdEncoding.EncodeToString(raw))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode("base64", body, 0); err != nil {
			b.Fatal(err)
		}
	}
}
