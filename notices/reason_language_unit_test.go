package notices

import (
	"testing"

	"cloister/mailtext"
)

// TestReasonInLanguage: each known part of a joined hold reason is
// translated, a reason holding "; " itself included, a reason naming a
// count through its format; unknown parts stay.
func TestReasonInLanguage(t *testing.T) {
	cat, err := mailtext.LoadCatalog(nil, "fr")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, want string }{
		{"the post has no subject", "le message n'a pas d'objet"},
		{"the post has 9 recipients in To and Cc, more than 5; the post has no subject",
			"le message a 9 destinataires dans To et Cc, plus de 5; le message n'a pas d'objet"},
		{"the post is encrypted with S/MIME; the list accepts only posts encrypted to its OpenPGP key",
			"le message est chiffré avec S/MIME ; la liste n'accepte que les messages chiffrés pour sa clé OpenPGP"},
		{"the post has many recipients; the post has no subject", "the post has many recipients; le message n'a pas d'objet"},
		{"the post has no subject; the post's signature was received before (a replay); duplicate_signature_action chooses the action",
			"le message n'a pas d'objet; la signature du message a déjà été reçue (un rejeu) ; duplicate_signature_action choisit l'action"},
		{"a; b", "a; b"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := reasonInLanguage(cat, tt.in); got != tt.want {
			t.Errorf("reasonInLanguage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
