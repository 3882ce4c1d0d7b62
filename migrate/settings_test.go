package migrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func settingsOf(p *Plan) map[string]string {
	m := map[string]string{}
	for _, kv := range p.Settings {
		m[kv[0]] = kv[1]
	}
	return m
}

// TestSchleuderSettings: each combination of Schleuder's receive_* options
// gets the send scenario and encryption settings that keep its promise.
func TestSchleuderSettings(t *testing.T) {
	tests := []struct {
		name string
		l    schleuderList
		want map[string]string
	}{
		{"open default", schleuderList{SendEncryptedOnly: 1, SubjectPrefix: "[t]"},
			map[string]string{"send": "send.public", "pgp_post_encrypt": "yes", "subject_prefix": "[t] "}},
		{"encrypted and signed only", schleuderList{SendEncryptedOnly: 1, ReceiveEncryptedOnly: 1, ReceiveSignedOnly: 1},
			map[string]string{"send": "send.private_pgp", "pgp_post_encrypt": "force"}},
		{"authenticated only", schleuderList{SendEncryptedOnly: 1, ReceiveAuthOnly: 1},
			map[string]string{"send": "send.private_pgp"}},
		{"subscribers only", schleuderList{SendEncryptedOnly: 1, ReceiveSubscribedOnly: 1},
			map[string]string{"send": "send.private"}},
		{"admins only", schleuderList{SendEncryptedOnly: 1, ReceiveAdminOnly: 1, ReceiveSignedOnly: 1},
			map[string]string{"send": "send.newsletter"}},
		{"clear copies allowed", schleuderList{SendEncryptedOnly: 0, Language: "de", MaxMessageSizeKB: 512},
			map[string]string{"pgp_distrib_encrypt": "yes", "language": "de", "max_message_size_kb": "512"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plan{}
			schleuderSettings(p, tt.l)
			got := settingsOf(p)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
			if tt.l.SendEncryptedOnly == 1 {
				if _, ok := got["pgp_distrib_encrypt"]; ok {
					t.Errorf("send_encrypted_only kept, yet pgp_distrib_encrypt is set: %v", got)
				}
			}
		})
	}
}

func TestMailman3(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	cfg := write("c.json", `{"fqdn_listname": "News@Example.org", "display_name": "News", "subject_prefix": "[News] ",
		"preferred_language": "fr", "max_message_size": 0, "subscription_policy": "confirm_then_moderate",
		"reply_goes_to_list": "explicit_header", "reply_to_address": "Talk@Example.org", "advertised": true,
		"default_member_action": "reject", "default_nonmember_action": "discard", "archive_policy": "never"}`)
	rest := write("m.json", `{"entries": [{"email": "a@x.test", "role": "owner", "delivery_mode": "regular"},
		{"email": "A@x.test", "role": "member", "delivery_mode": "plaintext_digests", "display_name": "Ann"},
		{"email": "n@x.test", "role": "nonmember"}], "total_size": 3}`)
	text := write("mods.txt", "Mo Derator <mo@x.test>\nb@x.test\n")
	p, err := Mailman3(cfg, []Roster{{rest, "member"}, {text, "moderator"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Address != "news@example.org" || p.Style != "announce" || p.Description != "News" {
		t.Errorf("plan %s style %s description %q", p.Address, p.Style, p.Description)
	}
	got := settingsOf(p)
	for k, v := range map[string]string{"subject_prefix": "[News] ", "language": "fr", "subscribe_policy": "confirm+approve",
		"reply_to": "talk@example.org", "advertised": "yes", "archive": "none"} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["max_message_size_kb"]; ok {
		t.Errorf("max_message_size 0 (no limit) became a setting")
	}
	var lines []string
	for _, m := range p.Members {
		lines = append(lines, m.Address+" "+m.Name+" "+m.Delivery+" "+map[bool]string{true: "O"}[m.Owner]+map[bool]string{true: "M"}[m.Member]+map[bool]string{true: "D"}[m.Moderator])
	}
	want := "a@x.test Ann digest OM|mo@x.test Mo Derator enabled D|b@x.test  enabled D"
	if strings.Join(lines, "|") != want {
		t.Errorf("members %q, want %q", strings.Join(lines, "|"), want)
	}
	t.Run("bad input", func(t *testing.T) {
		for name, r := range map[string][]Roster{
			"roster of another list": {{write("o.json", `{"entries": [{"email": "z@x.test", "role": "member", "list_id": "other.example.org"}]}`), "member"}},
			"unknown role":           {{write("r.json", `[{"email": "z@x.test", "role": "boss"}]`), "member"}},
			"text not an address":    {{write("t.txt", "not an address <\n"), "member"}},
		} {
			if _, err := Mailman3(cfg, r); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
		if _, err := Mailman3(write("x.json", `{"display_name": "x"}`), nil); err == nil || !strings.Contains(err.Error(), "fqdn_listname") {
			t.Errorf("config without fqdn_listname: %v", err)
		}
	})
}
