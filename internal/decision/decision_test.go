package decision

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// TestSpellings lists every decision with its one spelling, in order: a
// decision added, removed or respelled changes this table (and then
// docs/operators.md, which lists them).
func TestSpellings(t *testing.T) {
	want := []string{
		"accept", "reject", "discard", "hold", "request_auth", "approved", "expired",
		"refused", "refusal not answered", "forwarded to owners", "owner mail not forwarded",
		"owner mail kept in bad", "commands", "no reply", "attach-listkey", "resend", "distribute",
		"archived", "not archived", "archive expired", "digest", "delivered", "bounce recorded",
		"bounce dropped", "bounce not scored", "bounce scored", "cover scheduled", "cover",
		"cover stopped", "key-expiry-notice",
	}
	var got []string
	seen := map[string]bool{}
	for _, d := range All() {
		s := d.String()
		if seen[s] {
			t.Errorf("two decisions spelled %q", s)
		}
		seen[s] = true
		got = append(got, s)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("decisions:\n got %q\nwant %q", got, want)
	}
	for _, d := range []Decision{0, -1, Decision(len(want) + 1)} {
		if s := d.String(); s != "unknown" {
			t.Errorf("Decision(%d).String() = %q, want unknown", int(d), s)
		}
	}
}

// TestLogged: text and JSON log lines carry the spelling, as the free-text
// values did.
func TestLogged(t *testing.T) {
	for _, c := range []struct {
		d          Decision
		text, json string
	}{
		{Accept, "decision=accept", `"decision":"accept"`},
		{BounceNotScored, `decision="bounce not scored"`, `"decision":"bounce not scored"`},
	} {
		var tb, jb bytes.Buffer
		slog.New(slog.NewTextHandler(&tb, nil)).Info("decision", "decision", c.d)
		slog.New(slog.NewJSONHandler(&jb, nil)).Info("decision", "decision", c.d)
		if !strings.Contains(tb.String(), " "+c.text+"\n") {
			t.Errorf("text log %q lacks %s", tb.String(), c.text)
		}
		var line map[string]any
		if err := json.Unmarshal(jb.Bytes(), &line); err != nil || !strings.Contains(jb.String(), c.json) {
			t.Errorf("JSON log %q lacks %s (%v)", jb.String(), c.json, err)
		}
	}
}

// TestNoFreeText: no decision line in the module's code spells its
// decision as a string: each uses a constant of this package.
func TestNoFreeText(t *testing.T) {
	root := testdirs.Root(t)
	var files []string
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (e.Name() == "testdata" || strings.HasPrefix(e.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if !e.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("found %d Go files under %s: not the module's tree", len(files), root)
	}
	free := regexp.MustCompile(`"decision",\s*"decision",\s*"`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, loc := range free.FindAllIndex(b, -1) {
			line := bytes.Count(b[:loc[0]], []byte("\n")) + 1
			rel, _ := filepath.Rel(root, f)
			t.Errorf("%s:%d: a decision line spells its decision as free text; use a decision constant", rel, line)
		}
	}
}
