package runners

import (
	"strings"
	"testing"
	"time"
)

// TestBounceNoticeInListLanguage: the owners' notice that bounces disabled
// a member's delivery is in the list's language, with its status and the
// remote server's reply (a list without encryption).
func TestBounceNoticeInListLanguage(t *testing.T) {
	want := map[string][]string{
		"de": {"Zustellung an bob@subs.test nach Unzustellbarkeitsmeldungen abgeschaltet", "Letzter Status: 5.1.1", "Antwort des entfernten Servers: 550 5.1.1"},
		"fr": {"Distribution à bob@subs.test désactivée après des rejets", "Dernier état : 5.1.1", "Réponse du serveur distant : 550 5.1.1"},
	}
	for _, lang := range []string{"de", "fr"} {
		t.Run(lang, func(t *testing.T) {
			s := newTestSite(t)
			s.setList(t, map[string]string{"language": lang, "bounce_threshold": "1"})
			s.bounceTo(t, s.verp(t, "bob@subs.test", time.Now()), "postfix-failed.eml", nil)
			s.drain(t)
			mail := mailsOf(t, s, "ann@subs.test")
			if len(mail) != 1 {
				t.Fatalf("owner got %d mails", len(mail))
			}
			noEnglish(t, lang, "bounce notice", mail[0])
			for _, w := range want[lang] {
				if !strings.Contains(mail[0], w) {
					t.Errorf("bounce notice lacks %q:\n%s", w, mail[0])
				}
			}
		})
	}
}
