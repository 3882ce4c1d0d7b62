package mailmsg

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// handWritten matches a header field whose value a format verb or a string
// concatenation fills in, the way Cloister's own mail was written before
// WriteField: "Subject: %s\n", "To: " + addr.
var handWritten = regexp.MustCompile(`"(From|To|Cc|Bcc|Reply-To|Sender|Subject|In-Reply-To|References|Message-ID|X-Loop|List-Id|Content-Description|Comments|Keywords): (%[sqv]|"\s*\+)`)

// TestNoHandWrittenHeaderFields fails when code outside tests, benchmarks,
// the demo and the end-to-end harness writes an address, subject or
// message-id field with a format verb or a concatenation: those fields go
// through WriteField (HeaderWriter, Message.Add/Set).
func TestNoHandWrittenHeaderFields(t *testing.T) {
	root := ".."
	skip := map[string]bool{"bench": true, "test": true, "cmd/demo": true, "internal/gnupg": true, ".git": true}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if skip[filepath.ToSlash(rel)] {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if handWritten.MatchString(line) {
				t.Errorf("%s:%d writes a header field by hand: %s", rel, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
