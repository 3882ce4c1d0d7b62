package mailtext

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"cloister/etc"
)

// sample holds every field a built-in template reads.
var sample = map[string]any{
	"List": "team@lists.test", "Subject": "Agenda", "Reason": "a reason", "OwnerAddress": "team-owner@lists.test",
	"Days": 14, "HeldID": "h1", "ForOwners": true, "From": "ann@subs.test", "Rules": "no-subject", "Expires": "Mon, 7 Dec 2026",
	"ApproveAddress": "team-confirm+a@lists.test", "RejectAddress": "team-confirm+r@lists.test", "Encrypted": true, "Attached": false,
	"Headers": "Subject: x", "ConfirmAddress": "team-confirm+c@lists.test", "Help": "HELP-TEXT", "PGPFingerprint": "ABCD",
	"CertName": "CN=team", "CertFingerprint": "EF01", "Sender": "dan@else.test", "What": "subscribe dan@else.test",
	"Token": "tok", "RequestAddress": "team-request@lists.test", "Extra": "EXTRA",
	"Address": "dan@else.test", "Event": "EVENT", "By": "ann@subs.test",
	"ID": "k1", "Key": "the OpenPGP key ABCD", "Via": "key set", "Mode": "owner", "Vouched": true, "Fingerprint": "ABCD",
	"Score": 3, "Threshold": 3, "Status": "5.1.1", "Diagnostic": "550 no such user",
	"SendkeyAddress": "team-sendkey@lists.test", "Hint": "HINT", "Lines": []string{"x@y.test: sent"}, "N": 4,
}

// TestBuiltinTemplatesRender: every built-in text exists in English, German
// and French, renders with the fields its callers give, and the German and
// French ones are translations (their subject differs from the English).
func TestBuiltinTemplatesRender(t *testing.T) {
	names := map[string][]string{}
	err := fs.WalkDir(etc.Templates, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".tmpl") {
			return err
		}
		lang := filepath.Base(filepath.Dir(p))
		names[lang] = append(names[lang], strings.TrimSuffix(filepath.Base(p), ".tmpl"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names["en"])
	if len(names["en"]) < 7 {
		t.Fatalf("only %v in English", names["en"])
	}
	for _, lang := range []string{"de", "fr"} {
		sort.Strings(names[lang])
		if strings.Join(names[lang], " ") != strings.Join(names["en"], " ") {
			t.Errorf("%s has %v, English %v", lang, names[lang], names["en"])
		}
	}
	for _, name := range names["en"] {
		en, _, err := Render(nil, "en", name, sample)
		if err != nil {
			t.Errorf("en/%s: %v", name, err)
			continue
		}
		for _, lang := range []string{"de", "fr"} {
			subj, body, err := Render(nil, lang, name, sample)
			if err != nil {
				t.Errorf("%s/%s: %v", lang, name, err)
				continue
			}
			if subj == en || body == "" {
				t.Errorf("%s/%s is not translated: %q", lang, name, subj)
			}
		}
	}
}

func TestRenderFallbackAndOverrides(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "templates")
	list := filepath.Join(site, "team@lists.test")
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(s), 0o644)
	}
	write(filepath.Join(site, "fr", "reject.tmpl"), "Subject: site fr\n\nbody\n")
	write(filepath.Join(list, "en", "welcome.tmpl"), "Subject: list en\n\nbody\n")
	dirs := Dirs(dir, "Team@Lists.Test")
	tests := []struct {
		dirs             []string
		lang, name, want string
	}{
		{nil, "de", "welcome", "Willkommen bei team@lists.test"},
		{nil, "de-AT", "welcome", "Willkommen bei team@lists.test"},
		{nil, "fr-CA", "reject", "Votre message à team@lists.test a été refusé"},
		{nil, "pt-BR", "welcome", "Welcome to team@lists.test"},
		{nil, "", "welcome", "Welcome to team@lists.test"},
		{dirs, "fr", "reject", "site fr"},                                        // the site's French beats the built-in French
		{dirs, "de", "reject", "Ihr Beitrag an team@lists.test wurde abgelehnt"}, // no German override: built in
		{dirs, "de", "welcome", "list en"},                                       // a list's file, in any language, beats the site's and the built-in
		{dirs, "fr", "held", "Message à team@lists.test retenu pour modération (h1)"},
	}
	for _, tt := range tests {
		got, _, err := Render(tt.dirs, tt.lang, tt.name, sample)
		if err != nil || got != tt.want {
			t.Errorf("Render(%v, %s, %s) = %q, %v; want %q", tt.dirs != nil, tt.lang, tt.name, got, err, tt.want)
		}
	}
}
