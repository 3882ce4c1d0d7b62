package notices

import (
	"testing"

	"cloister/mailtext"
)

// TestTranslateRuleReason: reasons rendered from a rule's format are
// translated with their arguments kept; texts matching no format stay.
func TestTranslateRuleReason(t *testing.T) {
	tests := []struct{ lang, in, want string }{
		{"de", `the subject looks like the email command "unsubscribe"`, `der Betreff sieht aus wie der E-Mail-Befehl "unsubscribe"`},
		{"fr", "the post is 300 KiB, more than the list's limit of 40 KiB", "le message fait 300 Kio, plus que la limite de la liste de 40 Kio"},
		{"fr", "the address eve@x.test is banned from the list", "l'adresse eve@x.test est bannie de la liste"},
		{"de", "the X-Mailer field matches a suspicious pattern", "das Feld X-Mailer passt auf ein verdächtiges Muster"},
		{"en", "the post is 300 KiB, more than the list's limit of 40 KiB", "the post is 300 KiB, more than the list's limit of 40 KiB"},
		{"de", "the post is many KiB, more than the list's limit of 40 KiB", "the post is many KiB, more than the list's limit of 40 KiB"},
		{"fr", "something no rule says", "something no rule says"},
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.in, func(t *testing.T) {
			cat, err := mailtext.LoadCatalog(nil, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			if got := translateRuleReason(cat, tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if got := reasonInLanguage(cat, tt.in+"; the post has no subject"); tt.lang == "fr" && got != tt.want+"; le message n'a pas d'objet" {
				t.Errorf("joined: got %q", got)
			}
		})
	}
}
