package decision

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
	out, err := exec.Command("git", "-C", "../..", "ls-files", "*.go").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	free := regexp.MustCompile(`"decision",\s*"decision",\s*"`)
	files := strings.Fields(string(out))
	if len(files) < 100 {
		t.Fatalf("git ls-files found %d Go files: not the module's tree", len(files))
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join("../..", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, loc := range free.FindAllIndex(b, -1) {
			line := bytes.Count(b[:loc[0]], []byte("\n")) + 1
			t.Errorf("%s:%d: a decision line spells its decision as free text; use a decision constant", f, line)
		}
	}
}
