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

// TestResendReportInListLanguage: the list's report on a post's resend
// orders is in the list's language, its lines too (an encrypted post's
// copy to an address without a key is refused).
func TestResendReportInListLanguage(t *testing.T) {
	want := map[string][]string{
		"de": {"Bericht über das erneute Senden: Incident", "bob@subs.test hat die Liste gebeten",
			"eve@outside.test: abgelehnt, für diese Adresse ist kein Schlüssel hinterlegt; die Kopie muss verschlüsselt sein"},
		"fr": {"Rapport de réexpédition : Incident", "bob@subs.test a demandé à la liste",
			"eve@outside.test : refusé, aucune clé de cette adresse n'est enregistrée ; la copie doit être chiffrée"},
	}
	for _, lang := range []string{"de", "fr"} {
		t.Run(lang, func(t *testing.T) {
			s, homes := encryptedSite(t)
			s.setList(t, map[string]string{"language": lang})
			inner := "Content-Type: text/plain\r\n\r\nresend eve@outside.test\r\n\r\nPlease look at this.\r\n"
			post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Incident\n",
				[]byte(inner), true, "bob@subs.test", "team@lists.test")
			s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
			s.drain(t)
			var report string
			for _, m := range s.mailbox(t, "ann@subs.test") {
				pt, _, err := homes["ann@subs.test"].Decrypt(armoredPart(t, m))
				if err != nil {
					t.Fatal(err)
				}
				if text := clearText(t, pt); !strings.Contains(text, "Please look at this.") {
					report = text
				}
			}
			if report == "" {
				t.Fatal("no resend report")
			}
			noEnglish(t, lang, "resend report", report)
			for _, w := range want[lang] {
				if !strings.Contains(report, w) {
					t.Errorf("resend report lacks %q:\n%s", w, report)
				}
			}
		})
	}
}
