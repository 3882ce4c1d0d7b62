package service

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/lists"
	"cloister/rules"
)

// TestOwnerApplyStyle: an owner whose login passes the list's admin
// scenario (smime, pgp under admin.signed; not md5) applies a style that
// sets only owner settings; a style that sets a scenario or an encryption
// setting, or makes a list key, is refused naming them, and nothing
// changes; the site's admins apply any style.
func TestOwnerApplyStyle(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	dir := t.TempDir()
	s.site.Config.Path = filepath.Join(dir, "cloister.toml")
	if err := os.MkdirAll(filepath.Join(dir, "styles"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"friendly": "title friendly\nset subject_prefix [friends]\nset reply_to list\nset roster members\n",
		"sneaky":   "title sneaky\nset footer hi\nset pgp_post_encrypt no\nset admin admin.closed\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, "styles", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	owner := func(m string) Actor { return Actor{Address: "ann@subs.test", Method: m, Via: ViaWeb} }
	for _, tc := range []struct {
		name    string
		actor   Actor
		style   string
		allowed bool
		names   []string // settings the refusal names
	}{
		{"owner smime, owner settings only", owner(rules.MethodSMIME), "friendly", true, nil},
		{"owner pgp, owner settings only", owner(rules.MethodPGP), "friendly", true, nil},
		{"owner md5 refused by admin.signed", owner(rules.MethodMD5), "friendly", false, []string{"signed"}},
		{"owner smtp refused", owner(rules.MethodSMTP), "friendly", false, nil},
		{"member smime refused", Actor{Address: "bob@subs.test", Method: rules.MethodSMIME, Via: ViaWeb}, "friendly", false, nil},
		{"owner of another list refused", Actor{Address: "olga@subs.test", Method: rules.MethodSMIME, Via: ViaWeb}, "friendly", false, nil},
		{"owner smime, encryption and scenario", owner(rules.MethodSMIME), "sneaky", false, []string{"pgp_post_encrypt", "admin"}},
		{"owner smime, built-in discussion sets scenarios", owner(rules.MethodSMIME), "discussion", false, []string{"send", "subscribe", "unsubscribe", "archive", "review"}},
		{"owner smime, encrypted style makes a key", owner(rules.MethodSMIME), "encrypted-smime", false, []string{"smime_post_encrypt", "smime_distrib_encrypt", "list keys (smime)"}},
		{"owner token, owner settings only", token(t, "list:team@lists.test:owner"), "friendly", true, nil},
		{"owner token, encryption", token(t, "list:team@lists.test:owner"), "sneaky", false, []string{"pgp_post_encrypt"}},
		{"site admin token, anything", token(t, "site:admin"), "sneaky", true, nil},
		{"console, anything", Actor{Method: MethodConsole, Via: ViaCLI}, "discussion", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before *lists.List
			reset := func() {
				s.site.Lists.Update(func(tx *lists.Tx) error {
					l, err := tx.List("team@lists.test")
					if err != nil {
						return err
					}
					l.Settings = lists.DefaultSettings()
					before = l
					return tx.PutList(l)
				})
			}
			reset()
			_, err := s.ListApplyStyle(ctx, tc.actor, ListStyleRequest{List: "team", Style: tc.style})
			var after *lists.List
			s.site.Lists.View(func(tx *lists.Tx) error { after, _ = tx.List("team@lists.test"); return nil })
			if tc.allowed {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tc.style == "friendly" && (after.Settings.SubjectPrefix != "[friends]" || after.Settings.Roster != "members") {
					t.Fatalf("style not applied: prefix %q roster %q", after.Settings.SubjectPrefix, after.Settings.Roster)
				}
				return
			}
			if Code(err) != CodeForbidden {
				t.Fatalf("got %v (%s), want forbidden", err, Code(err))
			}
			for _, n := range tc.names {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("refusal %q does not name %q", err, n)
				}
			}
			if after.Settings != before.Settings {
				t.Fatalf("a refused style changed the settings: %+v", after.Settings)
			}
		})
	}
}
