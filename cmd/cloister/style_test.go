package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/etc"
	"cloister/internal/testdirs"
	"cloister/styles"
)

// TestListCreateStyles creates one list per built-in style and checks that
// each says what it did, that list show then holds the style's settings, and
// that the list keys the style names exist in the keyring.
func TestListCreateStyles(t *testing.T) {
	cfg := keySite(t)
	for _, tt := range []struct {
		style    string
		settings map[string]string
		keys     []string // substrings of key ls LIST
	}{
		{"discussion", map[string]string{"send": "send.private", "subscribe_policy": "confirm"}, nil},
		{"announce", map[string]string{"send": "send.newsletter", "reply_to": "sender", "archive": "public"}, nil},
		{"moderated", map[string]string{"send": "send.moderated", "subscribe_policy": "confirm+approve"}, nil},
		{"encrypted-openpgp", map[string]string{"pgp_post_encrypt": "force", "pgp_distrib_encrypt": "force", "pgp_distrib_sign": "yes", "send": "send.private_pgp"}, []string{"openpgp"}},
		{"encrypted-smime", map[string]string{"smime_post_encrypt": "force", "smime_distrib_encrypt": "force", "smime_distrib_sign": "yes", "send": "send.private_smime"}, []string{"smime"}},
		{"encrypted-both", map[string]string{"pgp_post_encrypt": "force", "smime_post_encrypt": "force", "pgp_post_sign": "force", "smime_post_sign": "force", "send": "send.private_key"}, []string{"openpgp", "smime"}},
	} {
		t.Run(tt.style, func(t *testing.T) {
			if len(tt.keys) > 0 {
				testdirs.Slow(t, "makes the style's list keys")
			}
			list := strings.ReplaceAll(tt.style, "-", "") + "@lists.test"
			out, err := cli(t, "--config", cfg, "list", "create", list, "--style", tt.style, "--owner", "ann@subs.test")
			if err != nil {
				t.Fatalf("create: %v\n%s", err, out)
			}
			if !strings.Contains(out, "created list "+list+" with style "+tt.style) {
				t.Errorf("create does not say what it did:\n%s", out)
			}
			for k, v := range tt.settings {
				if !strings.Contains(out, "set "+k+" = "+v+"\n") {
					t.Errorf("create output lacks set %s = %s:\n%s", k, v, out)
				}
			}
			if n := strings.Count(out, "  made "); n != len(tt.keys) {
				t.Errorf("create made %d keys, want %d:\n%s", n, len(tt.keys), out)
			}
			show, err := cli(t, "--config", cfg, "list", "show", list)
			if err != nil {
				t.Fatalf("show: %v\n%s", err, show)
			}
			for k, v := range tt.settings {
				if !lineHas(show, k, v) {
					t.Errorf("show: %s is not %s:\n%s", k, v, show)
				}
			}
			keys, err := cli(t, "--config", cfg, "key", "ls", list)
			if err != nil {
				t.Fatalf("key ls: %v\n%s", err, keys)
			}
			for _, kind := range tt.keys {
				if col := map[string]string{"openpgp": " pgp ", "smime": " x509 "}[kind]; !strings.Contains(keys, col) {
					t.Errorf("key ls %s lacks a %s key:\n%s", list, kind, keys)
				}
			}
		})
	}
}

// lineHas reports whether a tabular output has a line whose first field is
// name and second value.
func lineHas(out, name, value string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == name && f[1] == value {
			return true
		}
	}
	return false
}

// TestListCreateStyleErrors: an unknown style, a site style with a bad
// setting (the error names the file's line) and a style naming a missing
// scenario all fail before the list exists.
func TestListCreateStyleErrors(t *testing.T) {
	cfg := newSite(t)
	dir := filepath.Join(filepath.Dir(cfg), "styles")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "broken"), []byte("title broken\n\nset pgp_post_encrypt maybe\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "typo"), []byte("title typo\nset send send.nosuch\n"), 0o644)
	for _, tt := range []struct{ style, want string }{
		{"nosuch", "no style nosuch"},
		{"../etc", "style name"},
		{"broken", "line 3"},
		{"typo", "no scenario send.nosuch"},
	} {
		out, err := cli(t, "--config", cfg, "list", "create", "team", "--style", tt.style)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("style %s: err %v, want %q\n%s", tt.style, err, tt.want, out)
		}
		if ls, _ := cli(t, "--config", cfg, "list", "ls"); strings.Contains(ls, "team@") {
			t.Fatalf("style %s: the list was created anyway:\n%s", tt.style, ls)
		}
	}
}

// TestSiteStyles: a style file in styles/ beside cloister.toml is offered by
// list styles, replaces the built-in of its name, and is applied by create.
func TestSiteStyles(t *testing.T) {
	cfg := newSite(t)
	dir := filepath.Join(filepath.Dir(cfg), "styles")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "board"), []byte("# the board\ntitle board list\nset send send.closed\nset archive none\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "discussion"), []byte("title our discussion\nset max_recipients 3\n"), 0o644)
	out, err := cli(t, "--config", cfg, "list", "styles")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"board", "our discussion", "encrypted-both", "announce"} {
		if !strings.Contains(out, want) {
			t.Errorf("list styles lacks %q:\n%s", want, out)
		}
	}
	if out, err := cli(t, "--config", cfg, "list", "create", "board", "--style", "board"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := cli(t, "--config", cfg, "list", "create", "talk", "--style", "discussion"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	board, _ := cli(t, "--config", cfg, "list", "show", "board")
	talk, _ := cli(t, "--config", cfg, "list", "show", "talk")
	if !lineHas(board, "send", "send.closed") || !lineHas(board, "archive", "none") {
		t.Errorf("site style board not applied:\n%s", board)
	}
	if !lineHas(talk, "max_recipients", "3") {
		t.Errorf("site discussion does not replace the built-in:\n%s", talk)
	}
}

// TestBuiltinStylesParse checks every file in etc/styles parses, has a
// title and sets only valid settings, and that the six documented styles
// are there.
func TestBuiltinStylesParse(t *testing.T) {
	entries, err := fs.ReadDir(etc.Styles, "styles")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range entries {
		data, _ := etc.Styles.ReadFile("styles/" + e.Name())
		if _, err := styles.Parse(e.Name(), "built-in", data); err != nil {
			t.Error(err)
		}
		got[e.Name()] = true
	}
	for _, want := range []string{"discussion", "announce", "moderated", "encrypted-openpgp", "encrypted-smime", "encrypted-both"} {
		if !got[want] {
			t.Errorf("no built-in style %s", want)
		}
	}
}

// TestListSettings: list settings prints every setting with its default,
// allowed values and documentation; with a list, its value, marking the
// changed ones.
func TestListSettings(t *testing.T) {
	cfg := newSite(t)
	out, err := cli(t, "--config", cfg, "list", "settings")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"pgp_post_sign\n    default no; allowed: no|yes|force\n    OpenPGP signatures on posts", "token_expire_hours\n    default 72; allowed: integer"} {
		if !strings.Contains(out, want) {
			t.Errorf("list settings lacks %q:\n%.600s", want, out)
		}
	}
	cli(t, "--config", cfg, "list", "create", "team")
	cli(t, "--config", cfg, "list", "set", "team", "max_recipients", "4")
	out, err = cli(t, "--config", cfg, "list", "settings", "team")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"max_recipients = 4  (changed)\n    default 10;", "footer = (empty)\n", "archive = private\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("list settings team lacks %q:\n%s", want, out)
		}
	}
}

// TestSettingsReference regenerates docs/settings.md and compares: a new or
// changed setting needs `go run ./cmd/cloister docs settings > docs/settings.md`.
func TestSettingsReference(t *testing.T) {
	got := settingsReference()
	want, err := os.ReadFile("../../docs/settings.md")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("docs/settings.md is stale: run go run ./cmd/cloister docs settings > docs/settings.md")
	}
	out, err := cli(t, "docs", "settings")
	if err != nil || out != got {
		t.Errorf("docs settings prints something else (err %v)", err)
	}
	for _, name := range []string{"pgp_post_encrypt", "digest_period_hours", "key_enrolment"} {
		if !strings.Contains(got, "\n## "+name+"\n") {
			t.Errorf("reference lacks %s", name)
		}
	}
}
