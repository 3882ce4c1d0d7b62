package runners

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/queue"
)

// TestCommandRepliesInListLanguage: a list whose language is fr answers a
// help and refused commands in French, a de list in German (de-CH falls
// back to de), through the runners: the reply's frame, the help with every
// command's line, the list's info, a scenario refusal reason, a usage
// refusal and a refusal by the service layer. An
// English list's reply is unchanged.
func TestCommandRepliesInListLanguage(t *testing.T) {
	tests := []struct {
		lang string
		want []string
	}{
		{"fr", []string{
			"Résultats de votre message à team-request@lists.test :",
			"> help\n  done: Ceci est le serveur de listes Cloister pour team@lists.test.",
			"Pour s'abonner :                 team-join@lists.test",
			"version (ou x-get-version)\n", "cette liste de commandes\n",
			"(modérateurs) diffuser le message retenu ID\n",
			"> approve h1\n  refused: seuls les modérateurs et les propriétaires peuvent le faire, avec un courriel de commandes signé",
			"> confirm\n  refused: usage : confirm TOKEN",
			"> unsubscribe\n  refused: eve@outside.test n'est pas abonné à team@lists.test",
			"Liste :        team@lists.test\n",
			"> frobnicate\n  unknown: pas une commande ; envoyez \"help\" pour la liste des commandes",
			"> key\n  refused: usage : key get | key set | key change | key revoke\n",
			"> key get\n  refused: cette liste n'a pas de clé\n",
			"> key revoke\n  refused: les clés ne peuvent pas être changées par courriel sur ce serveur ; demandez aux propriétaires de la liste",
			"key get : la clé publique ou le certificat de la liste, dans une réponse signée ;",
		}},
		{"de-CH", []string{
			"Ergebnisse Ihrer Nachricht an team-request@lists.test:",
			"> help\n  done: Dies ist der Cloister-Listenserver für team@lists.test.",
			"Zum Abonnieren:                  team-join@lists.test",
			"version (oder x-get-version)\n", "diese Liste der Befehle\n",
			"(Moderatoren) den zurückgehaltenen Beitrag ID verteilen\n",
			"> approve h1\n  refused: nur Moderatoren und Eigentümer dürfen das, mit einer Befehlsmail",
			"> confirm\n  refused: Aufruf: confirm TOKEN",
			"> unsubscribe\n  refused: eve@outside.test hat team@lists.test nicht abonniert",
			"Liste:         team@lists.test\n",
			"> frobnicate\n  unknown: kein Befehl; senden Sie \"help\" für die Liste der Befehle",
			"> key\n  refused: Verwendung: key get | key set | key change | key revoke\n",
			"> key get\n  refused: diese Liste hat keinen Schlüssel\n",
			"> key revoke\n  refused: Schlüssel können auf diesem Server nicht per Mail geändert werden; fragen Sie die Eigentümer der Liste",
			"key get: der öffentliche Schlüssel oder das Zertifikat der Liste, in einer signierten Antwort;",
		}},
		{"en", []string{
			"Results of your message to team-request@lists.test:",
			"> help\n  done: This is the Cloister list server for team@lists.test.",
			"To subscribe:                    team-join@lists.test",
			"version (or x-get-version)\n", "this list of commands\n",
			"(moderators) distribute the held post ID\n",
			"> approve h1\n  refused: only moderators and owners may do this, with a command mail",
			"> confirm\n  refused: usage: confirm TOKEN",
			"> unsubscribe\n  refused: eve@outside.test is not subscribed to team@lists.test",
			"List:          team@lists.test\n",
			"> frobnicate\n  unknown: not a command; send \"help\" for the list of commands",
			"> key\n  refused: usage: key get | key set | key change | key revoke\n",
			"> key get\n  refused: this list has no key\n",
			"> key revoke\n  refused: keys cannot be changed by mail on this server; ask the list owners",
			"key get: the list's public key or certificate, in a signed reply;",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			s := newTestSite(t)
			s.setList(t, map[string]string{"language": tt.lang})
			s.deliver(t, queue.SubRequest, "eve@outside.test",
				"From: eve@outside.test\nSubject: commands\n\nhelp\ninfo\napprove h1\nconfirm\nunsubscribe\nfrobnicate\nkey\nkey get\nkey revoke\n")
			s.drain(t)
			r := oneReply(t, s, "eve@outside.test")
			if tt.lang != "en" {
				noEnglish(t, tt.lang, "the reply", clearText(t, []byte(r)))
			}
			for _, w := range tt.want {
				if !strings.Contains(r, w) {
					t.Errorf("the reply lacks %q:\n%s", w, r)
				}
			}
		})
	}
}

// TestCommandReplyCatalogueOverrides: a site's catalogue overrides one
// message of the built-in French, the rest stays built in; a broken list
// catalogue is logged and the reply goes out in English, never lost.
func TestCommandReplyCatalogueOverrides(t *testing.T) {
	s := newTestSite(t)
	s.setList(t, map[string]string{"language": "fr"})
	root := filepath.Join(s.Config.StateDir, "templates")
	write := func(p, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "fr", "messages.po"), "msgid \"usage: confirm TOKEN\"\nmsgstr \"usage du site : confirm JETON\"\n")
	s.deliver(t, queue.SubRequest, "eve@outside.test", "From: eve@outside.test\nSubject: c\n\nconfirm\nfrobnicate\n")
	s.drain(t)
	r := oneReply(t, s, "eve@outside.test")
	for _, w := range []string{"> confirm\n  refused: usage du site : confirm JETON", "unknown: pas une commande ;"} {
		if !strings.Contains(r, w) {
			t.Errorf("the reply lacks %q:\n%s", w, r)
		}
	}

	write(filepath.Join(root, "team@lists.test", "fr", "messages.po"), "msgid \"usage: confirm TOKEN\"\n") // no msgstr
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: c\n\nconfirm\n")
	s.drain(t)
	r = oneReply(t, s, "dan@else.test")
	if !strings.Contains(r, "Results of your message to team-request@lists.test:\n\n> confirm\n  refused: usage: confirm TOKEN") {
		t.Errorf("with a broken catalogue the reply is not in English:\n%s", r)
	}
}
