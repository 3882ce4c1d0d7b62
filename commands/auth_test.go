package commands

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cloister/internal/gnupg"
	"cloister/internal/site"
	"cloister/keyring"
	"cloister/lists"
	"cloister/queue"
	"cloister/rules"
)

// TestOwnerScenarios runs owner and moderator commands on lists that pick
// their admin and moderate scenarios: ann owns team, mo moderates it, root is
// a listmaster. Each case is one command mail, signed by the sender's own
// OpenPGP key unless unsigned.
func TestOwnerScenarios(t *testing.T) {
	h := gnupg.New(t)
	fprs := map[string]string{}
	for _, who := range []string{"ann@subs.test", "mo@subs.test", "root@subs.test"} {
		fprs[who] = h.GenKey(who+" <"+who+">", "cv25519")
	}
	tests := []struct {
		name     string
		settings map[string]string // list settings set first
		from     string
		unsigned bool
		command  string
		want     string // in the reply
		approved bool   // the held post was approved
	}{
		// The defaults: admin.signed, moderate.signed.
		{name: "default/moderator approves", from: "mo@subs.test", command: "approve h1",
			want: "done: post h1 approved", approved: true},
		{name: "default/owner approves", from: "ann@subs.test", command: "approve h1",
			want: "done: post h1 approved", approved: true},
		{name: "default/unsigned owner approves", from: "ann@subs.test", unsigned: true, command: "approve h1",
			want: "refused: only moderators and owners may do this, with a command mail signed"},
		{name: "default/owner adds", from: "ann@subs.test", command: "add dan@subs.test",
			want: "done: dan@subs.test is subscribed"},
		{name: "default/listmaster adds", from: "root@subs.test", command: "add dan@subs.test",
			want: "done: dan@subs.test is subscribed"},
		{name: "default/moderator adds", from: "mo@subs.test", command: "add dan@subs.test",
			want: "refused: only list owners may do this"},
		{name: "default/unsigned owner adds", from: "ann@subs.test", unsigned: true, command: "add dan@subs.test",
			want: "refused: only list owners may do this"},

		// moderate.owner: the moderators lose the commands, the owners keep them.
		{name: "moderate.owner/moderator approves", settings: map[string]string{"moderate": "moderate.owner"},
			from: "mo@subs.test", command: "approve h1", want: "refused: only list owners may do this"},
		{name: "moderate.owner/moderator discards", settings: map[string]string{"moderate": "moderate.owner"},
			from: "mo@subs.test", command: "discard h1", want: "refused: only list owners may do this"},
		{name: "moderate.owner/owner approves", settings: map[string]string{"moderate": "moderate.owner"},
			from: "ann@subs.test", command: "approve h1", want: "done: post h1 approved", approved: true},

		// admin.listmaster: only the site's listmasters.
		{name: "admin.listmaster/owner adds", settings: map[string]string{"admin": "admin.listmaster"},
			from: "ann@subs.test", command: "add dan@subs.test", want: "refused: only the site's listmasters may do this"},
		{name: "admin.listmaster/owner lists members", settings: map[string]string{"admin": "admin.listmaster"},
			from: "ann@subs.test", command: "members", want: "refused: only the site's listmasters may do this"},
		{name: "admin.listmaster/listmaster adds", settings: map[string]string{"admin": "admin.listmaster"},
			from: "root@subs.test", command: "add dan@subs.test", want: "done: dan@subs.test is subscribed"},
		{name: "admin.listmaster/owner approves", settings: map[string]string{"admin": "admin.listmaster"},
			from: "ann@subs.test", command: "approve h1", want: "done: post h1 approved", approved: true},

		// admin.closed: nobody by mail.
		{name: "admin.closed/listmaster adds", settings: map[string]string{"admin": "admin.closed"},
			from: "root@subs.test", command: "add dan@subs.test", want: "refused: this list takes no owner commands by mail"},
		{name: "admin.closed/owner removes", settings: map[string]string{"admin": "admin.closed"},
			from: "ann@subs.test", command: "remove bob@subs.test", want: "refused: this list takes no owner commands by mail"},

		// The scenario settings cannot be changed by mail, not even by a
		// signed owner.
		{name: "set admin by mail", from: "ann@subs.test", command: "set admin admin.closed",
			want: `refused: "admin" cannot be set by mail`},
		{name: "set moderate by mail", from: "ann@subs.test", command: "set moderate moderate.owner",
			want: `refused: "moderate" cannot be set by mail`},
		{name: "set key by mail", from: "ann@subs.test", command: "set key key.owner",
			want: `refused: "key" cannot be set by mail`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, l := testSite(t)
			s.Config.Listmasters = []string{"root@subs.test"}
			err := s.Lists.Update(func(tx *lists.Tx) error {
				if err := tx.AddMember(l.Address, &lists.Member{Address: "mo@subs.test", Roles: []lists.Role{lists.RoleModerator}}); err != nil {
					return err
				}
				for name, v := range tc.settings {
					if err := l.Settings.Set(name, v); err != nil {
						return err
					}
				}
				if err := tx.PutList(l); err != nil {
					return err
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// A real held post: the commands decide on it through package
			// moderation, which sends an approved post on to the pipeline.
			name, err := s.Queue(queue.Held).EnqueueBytes(&queue.Meta{List: l.Address, Sender: "bob@subs.test", From: "bob@subs.test", Encryption: "none"},
				[]byte("From: bob@subs.test\nSubject: held\n\nheld post\n"))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Lists.Update(func(tx *lists.Tx) error {
				return tx.PutHeld(&lists.Held{ID: "h1", List: l.Address, File: "queue/" + queue.Held + "/" + name + ".msg", Reason: "test"})
			})
			if err != nil {
				t.Fatal(err)
			}
			req := ownerRequest(t, h, s, l, tc.from, fprs[tc.from], tc.unsigned, tc.command)
			out, err := Handle(req)
			if err != nil {
				t.Fatal(err)
			}
			if r := replyText(t, out); !strings.Contains(r, tc.want) {
				t.Errorf("want %q in the reply:\n%s", tc.want, r)
			}
			approved, err := s.Queue(queue.Pipeline).Pending(queue.All)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(approved) == 1; got != tc.approved {
				t.Errorf("approved %v, want approved: %v", approved, tc.approved)
			}
			var after *lists.List
			s.Lists.View(func(tx *lists.Tx) error {
				after, err = tx.List(l.Address)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range []string{OpAdmin, OpModerate, "key"} {
				if want, _ := l.Settings.Value(op); scenarioName(after, op) != want {
					t.Errorf("setting %s is %q after the command, was %q", op, scenarioName(after, op), want)
				}
			}
		})
	}
}

// ownerRequest is a command mail to team-request from from: PGP/MIME signed
// by fpr (naming the list in the signed text) or, if unsigned, in clear.
func ownerRequest(t *testing.T, h *gnupg.Home, s *site.Site, l *lists.List, from, fpr string, unsigned bool, command string) *Request {
	t.Helper()
	inner := "x-list-name team\n" + command + "\n"
	meta := &queue.Meta{ID: "e1", List: l.Address, Subaddress: queue.SubRequest, Sender: from, From: from, Encryption: "none"}
	var mail string
	if unsigned {
		mail = "From: " + from + "\nSubject: x\nContent-Type: text/plain\n\n" + inner
		meta.Auth = rules.MethodSMTP
	} else {
		mail = string(h.PGPMIMESigned("From: "+from+"\nSubject: x\n", []byte("Content-Type: text/plain\n\n"+inner), from))
		meta.Verdict, meta.Auth, meta.SignerFpr, meta.SignerAddresses = "good", rules.MethodPGP, fpr, []string{from}
	}
	return newRequest(s, l, meta, mail, time.Now())
}

// TestScenarioOperationsHaveSettings: every operation a command authorizes
// reads its scenario from the list setting of the same name, whose default is
// a built-in; and no scenario setting is settable by mail.
func TestScenarioOperationsHaveSettings(t *testing.T) {
	l, err := lists.NewList("team@lists.test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	builtins := rules.NewScenarioSet("")
	for _, op := range rules.ScenarioOperations() {
		v, err := l.Settings.Value(op)
		if err != nil {
			t.Errorf("operation %s has no list setting: %v", op, err)
			continue
		}
		if _, err := builtins.Get(v); err != nil {
			t.Errorf("default of %s: %v", op, err)
		}
		if op != "send" && scenarioName(l, op) != v {
			t.Errorf("scenarioName(%s) = %q, want the setting's %q", op, scenarioName(l, op), v)
		}
		if slices.Contains(SafeSettings, op) {
			t.Errorf("the scenario setting %s is settable by mail", op)
		}
	}
}

// TestOwnerKeySetNeedsSignature: a site's own admin scenario that lets
// owners act by unsigned mail still cannot have a key set by it (security
// invariant 3), nor any other owner command: mail that proves nothing
// (smtp) never gives owner commands.
func TestOwnerKeySetNeedsSignature(t *testing.T) {
	s, l := testSite(t)
	dir := t.TempDir()
	lax := "# admin.lax: owners, signed or not\ntitle owners, signed or not\nis_owner([listname],[sender]) smtp,md5,pgp,smime -> do_it\ntrue() smtp,md5,pgp,smime -> reject(reason='admin_signed')\n"
	if err := os.WriteFile(filepath.Join(dir, "admin.lax"), []byte(lax), 0o644); err != nil {
		t.Fatal(err)
	}
	err := s.Lists.Update(func(tx *lists.Tx) error {
		l.Settings.Admin = "admin.lax"
		return tx.PutList(l)
	})
	if err != nil {
		t.Fatal(err)
	}
	k, err := keyring.Open(filepath.Join(t.TempDir(), "keyring.db"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	h := gnupg.New(t)
	h.GenKey("dan <dan@subs.test>", "cv25519")
	req := ownerRequest(t, h, s, l, "ann@subs.test", "", true, "add dan@subs.test\nkey set dan@subs.test\n\n"+string(h.ExportPublic("dan@subs.test")))
	req.Scenarios = rules.NewScenarioSet(dir)
	req.KeyStore = KeyringStore{K: k}
	out, err := Handle(req)
	if err != nil {
		t.Fatal(err)
	}
	r := replyText(t, out)
	if strings.Count(r, "refused: owner and moderator commands are never accepted from unsigned mail") != 2 {
		t.Errorf("the unsigned owner's add and key set ADDRESS were not both refused:\n%s", r)
	}
	if strings.Contains(r, "is subscribed") {
		t.Errorf("the lax scenario let an unsigned owner add:\n%s", r)
	}
	if fpr, _ := (KeyringStore{K: k}).SubscriberPGP("dan@subs.test"); fpr != "" {
		t.Fatalf("dan's key was set by unsigned mail: %s", fpr)
	}
}
