package rules

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestScenarioSetNames(t *testing.T) {
	set := NewScenarioSet("")
	tests := map[string][]string{
		"send": {"send.closed", "send.editorkey", "send.moderated", "send.newsletter", "send.private",
			"send.private_key", "send.private_pgp", "send.private_smime", "send.public"},
		"subscribe":   {"subscribe.confirm", "subscribe.open", "subscribe.owner", "subscribe.signed"},
		"unsubscribe": {"unsubscribe.confirm", "unsubscribe.open", "unsubscribe.owner"},
		"review":      {"review.owner", "review.private", "review.public"},
		"get":         {"get.closed", "get.private", "get.public"},
		"key":         {"key.owner", "key.signed"},
		"nosuch":      nil,
		"":            nil,
	}
	for op, want := range tests {
		if got := set.Names(op); !slices.Equal(got, want) {
			t.Errorf("Names(%q) = %v, want %v", op, got, want)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScenarioSetSiteOverride(t *testing.T) {
	site := t.TempDir()
	writeFile(t, filepath.Join(site, "send.public"), "title.gettext site public\ntrue() smtp -> editorkey\n")
	writeFile(t, filepath.Join(site, "send.custom"), "is_owner([listname],[sender]) pgp -> do_it\n")
	writeFile(t, filepath.Join(site, "send.custom~"), "editor backup, ignored\n")
	writeFile(t, filepath.Join(site, "notes.txt"), "ignored\n")
	set := NewScenarioSet(site)

	got := set.Names("send")
	if !slices.Contains(got, "send.custom") || slices.Contains(got, "send.custom~") ||
		len(got) != 10 || slices.Contains(got, "notes.txt") {
		t.Errorf("Names(send) = %v", got)
	}
	s, err := set.Get("send.public")
	if err != nil {
		t.Fatal(err)
	}
	if s.Title != "site public" || s.Name != "send.public" {
		t.Errorf("site file did not override the built-in: %+v", s)
	}
	if d, _ := s.Evaluate(Env{Method: "smtp"}); d.Action != ScenarioEditorkey {
		t.Errorf("site send.public decided %s", d)
	}
	// Built-ins the site does not override are still there.
	if s, err := set.Get("send.closed"); err != nil || s.Title != "closed" {
		t.Errorf("send.closed: %v %+v", err, s)
	}

	// An edited site file takes effect without a new set.
	path := filepath.Join(site, "send.custom")
	writeFile(t, path, "true() smtp,md5 -> reject(reason='edited')\n")
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	s, err = set.Get("send.custom")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rules) != 1 || s.Rules[0].Reason != "edited" {
		t.Errorf("edited file not reloaded: %+v", s.Rules)
	}

	// A broken site file is an error naming file, line and column, never a
	// silent fall back to the built-in.
	writeFile(t, filepath.Join(site, "send.private"), "true() smtp -> do_it\nis_subscribr([listname],[sender]) smtp -> do_it\n")
	_, err = set.Get("send.private")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(site, "send.private")+`:2:1: unknown condition "is_subscribr"`) {
		t.Errorf("broken site file: %v", err)
	}
	if err := set.CheckAll(); err == nil || !strings.Contains(err.Error(), "is_subscribr") {
		t.Errorf("CheckAll: %v", err)
	}
}

func TestScenarioSetGetErrors(t *testing.T) {
	set := NewScenarioSet(t.TempDir())
	for _, name := range []string{"", "send", "send.", ".public", "bogus.public", "send.a/b", "../send.public",
		"send.pub.lic", "send.public~", "Send.public", "send._x", "send.-x", "send." + strings.Repeat("x", 65)} {
		if _, err := set.Get(name); !errors.Is(err, ErrScenarioName) {
			t.Errorf("Get(%q): %v, want ErrScenarioName", name, err)
		}
	}
	if _, err := set.Get("send.nosuch"); !errors.Is(err, ErrScenarioNotFound) {
		t.Errorf("Get(send.nosuch): %v, want ErrScenarioNotFound", err)
	}
	unreadable := NewScenarioSet(filepath.Join(t.TempDir(), "file"))
	writeFile(t, filepath.Join(filepath.Dir(unreadable.siteDir), "file"), "not a directory")
	if _, err := unreadable.Get("send.public"); err == nil || errors.Is(err, ErrScenarioNotFound) {
		t.Errorf("site dir that is a file: %v, want an I/O error", err)
	}
}

func TestScenarioSetCheck(t *testing.T) {
	dir := t.TempDir()
	set := NewScenarioSet("")
	good := filepath.Join(dir, "send.custom")
	writeFile(t, good, "# ok\ntrue() smtp -> do_it\n")
	if err := set.Check(good); err != nil {
		t.Errorf("good file: %v", err)
	}
	bad := filepath.Join(dir, "draft.txt")
	writeFile(t, bad, "true() smtp -> do_it\nis_subscribr([listname],[sender]) smtp -> do_it\ntrue() smtp -> allow\n")
	err := set.Check(bad)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		bad + `:1:1: file name "draft.txt" is not <operation>.<name> (operations: send, subscribe, unsubscribe, review, get, key, admin, moderate); a site directory would ignore it`,
		bad + `:2:1: unknown condition "is_subscribr"`,
		bad + `:3:16: unknown action "allow" (known: do_it, reject, request_auth, editorkey, editor, owner, discard)`,
	}
	if !slices.Equal(lines, want) {
		t.Errorf("got:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	if err := set.Check(filepath.Join(dir, "send.missing")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	huge := filepath.Join(dir, "send.huge")
	writeFile(t, huge, strings.Repeat("#", MaxScenarioSize+10))
	if err := set.Check(huge); err == nil || !strings.Contains(err.Error(), "file larger than") {
		t.Errorf("huge file: %v", err)
	}
	if err := NewScenarioSet("").CheckAll(); err != nil {
		t.Errorf("built-ins: %v", err)
	}
}
