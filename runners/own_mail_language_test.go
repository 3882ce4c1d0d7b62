package runners

import (
	"cloister/internal/gnupg"
	"cloister/queue"
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

// TestRefusalInListLanguage: the one answer to mail the list cannot read
// is in the list's language (that it is one text whatever the cause is
// the oracle tests' part: TestOpenPGPRefusalsAreOne and its siblings).
func TestRefusalInListLanguage(t *testing.T) {
	want := map[string]string{
		"de": "Ihre Nachricht an team@lists.test konnte nicht gelesen werden",
		"fr": "Votre message à team@lists.test n'a pas pu être lu",
	}
	for _, lang := range []string{"de", "fr"} {
		t.Run(lang, func(t *testing.T) {
			s, homes := encryptedSite(t)
			s.setList(t, map[string]string{"language": lang})
			bob := homes["bob@subs.test"]
			other := gnupg.New(t)
			other.GenKey("stranger <stranger@else.test>", "cv25519")
			bob.Import(other.ExportPublic("stranger@else.test"))
			post := bob.PGPMIMEEncrypted("From: bob@subs.test\nSubject: x\n", []byte("Content-Type: text/plain\n\nhello\n"), false, "", "stranger@else.test")
			s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
			s.drain(t)
			mail := s.mailbox(t, "bob@subs.test")
			if len(mail) != 1 {
				t.Fatalf("bob got %d answers, want 1", len(mail))
			}
			for _, m := range mail {
				pt, _, err := bob.Decrypt(m)
				if err != nil {
					t.Fatalf("answer not encrypted to bob: %v", err)
				}
				text := clearText(t, pt)
				noEnglish(t, lang, "refusal", text)
				if !strings.Contains(text, want[lang]) {
					t.Errorf("refusal lacks %q:\n%s", want[lang], text)
				}
			}
		})
	}
}

// TestVirusOwnerNoticeInListLanguage: the sender of infected mail to
// LIST-owner is told, in the list's language, why it was not forwarded.
func TestVirusOwnerNoticeInListLanguage(t *testing.T) {
	want := map[string]string{
		"de": "Ihre Nachricht an die Eigentümer von team@lists.test wurde nicht weitergeleitet: der Virenscanner des Servers hat in der Nachricht einen Virus",
		"fr": "Votre message aux propriétaires de team@lists.test n'a pas été transmis : l'antivirus du site a trouvé un virus",
	}
	for _, lang := range []string{"de", "fr"} {
		t.Run(lang, func(t *testing.T) {
			s, _ := scannedSite(t, 1024)
			setSetting(t, s, "language", lang)
			s.deliver(t, queue.SubOwner, "dan@else.test", strings.Replace(virusPost("Tool"), "Bob <bob@subs.test>", "dan@else.test", 1))
			s.drain(t)
			mail := mailsOf(t, s, "dan@else.test")
			if len(mail) != 1 {
				t.Fatalf("dan got %d mails", len(mail))
			}
			noEnglish(t, lang, "virus notice", mail[0])
			if !strings.Contains(spaces.ReplaceAllString(mail[0], " "), want[lang]) {
				t.Errorf("virus notice lacks %q:\n%s", want[lang], mail[0])
			}
		})
	}
}
