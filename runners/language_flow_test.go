package runners

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"

	"cloister/queue"
)

// subjects returns the decoded Subject of each message.
func subjects(t *testing.T, box [][]byte) []string {
	t.Helper()
	var out []string
	dec := new(mime.WordDecoder)
	for _, m := range box {
		msg, err := mail.ReadMessage(bytes.NewReader(m))
		if err != nil {
			t.Fatalf("unreadable mail: %v\n%s", err, m)
		}
		s, err := dec.DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestListLanguageShapesItsMail: a list whose language is fr (or de-AT,
// which falls back to de) sends its subscription confirmation request, its
// (with the phrase saying what it is for), its welcome and its rejection
// notice (with the scenario's reason) in that language, the welcome with
// the help in that language, through the runners;
// a language Cloister does not ship (pt-BR) falls back to English.
func TestListLanguageShapesItsMail(t *testing.T) {
	tests := []struct {
		lang                     string
		confirm, welcome, reject string
		reason                   string // the scenario's reason, in the rejection's body
		help                     string // the help, in the welcome's body
	}{
		{"fr", "Confirmer : abonner dan@else.test à team@lists.test", "Bienvenue sur team@lists.test", "Votre message à team@lists.test a été refusé", "seuls les membres de la liste peuvent y écrire", "Ceci est le serveur de listes Cloister pour team@lists.test."},
		{"de-AT", "Bestätigen: dan@else.test in team@lists.test eintragen", "Willkommen bei team@lists.test", "Ihr Beitrag an team@lists.test wurde abgelehnt", "nur Mitglieder der Liste dürfen an sie schreiben", "Dies ist der Cloister-Listenserver für team@lists.test."},
		{"pt-BR", "Confirm: subscribe dan@else.test to team@lists.test", "Welcome to team@lists.test", "Your post to team@lists.test was rejected", "only members of the list may post to it", "This is the Cloister list server for team@lists.test."},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			s := newTestSite(t)
			s.setList(t, map[string]string{"language": tt.lang})
			s.deliver(t, queue.SubRequest, "dan@else.test", "From: Dan <dan@else.test>\nSubject: join\n\nsubscribe\n")
			s.drain(t)
			var tok string
			box := s.mailbox(t, "dan@else.test")
			for i, subj := range subjects(t, box) {
				if subj == tt.confirm {
					tok = tokenIn(t, string(box[i]))
				}
			}
			if tok == "" {
				t.Fatalf("no confirmation request %q among %q", tt.confirm, subjects(t, box))
			}
			s.deliverConfirm(t, tok, "dan@else.test", "From: dan@else.test\nSubject: Re\n\nyes\n")
			s.drain(t)
			if got := subjects(t, s.mailbox(t, "dan@else.test")); !containsString(got, tt.welcome) {
				t.Fatalf("no welcome %q among %q", tt.welcome, got)
			}
			box = s.mailbox(t, "dan@else.test")
			for i, subj := range subjects(t, box) {
				if strings.TrimSpace(subj) == tt.welcome && !strings.Contains(string(box[i]), tt.help) {
					t.Fatalf("the welcome lacks the help %q:\n%s", tt.help, box[i])
				}
			}
			s.deliver(t, queue.SubPost, "eve@outside.test", "From: eve@outside.test\nTo: team@lists.test\nSubject: hi\nMessage-ID: <lang-"+tt.lang+"@outside.test>\n\nhi\n")
			s.drain(t)
			if got := subjects(t, s.mailbox(t, "eve@outside.test")); !containsString(got, tt.reject) {
				t.Fatalf("no rejection %q among %q", tt.reject, got)
			}
			if box := s.mailbox(t, "eve@outside.test"); len(box) != 1 || !strings.Contains(string(box[0]), tt.reason) {
				t.Fatalf("the rejection does not give the reason %q:\n%s", tt.reason, box)
			}
			if tt.lang != "pt-BR" {
				for _, rcpt := range []string{"dan@else.test", "eve@outside.test"} {
					for _, m := range mailsOf(t, s, rcpt) {
						noEnglish(t, tt.lang, "mail to "+rcpt, m)
					}
				}
			}
		})
	}
}

func containsString(list []string, s string) bool {
	for _, l := range list {
		if strings.TrimSpace(l) == s {
			return true
		}
	}
	return false
}
