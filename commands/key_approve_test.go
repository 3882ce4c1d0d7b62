package commands

import (
	"testing"

	"cloister/lists"
	"cloister/mailtext"
	"cloister/rules"
	"cloister/service"
)

// TestDeciderInListLanguage: the operator who approves a key request at
// the console is named in the list's language; anyone else as the sender.
func TestDeciderInListLanguage(t *testing.T) {
	for _, tt := range []struct {
		lang string
		as   *service.Actor
		want string
	}{
		{"de", &service.Actor{Method: service.MethodConsole, Via: service.ViaCLI, Name: "alice"}, "Betreiber alice (cloister auf dem Server)"},
		{"fr", &service.Actor{Method: service.MethodConsole, Via: service.ViaCLI, Name: "alice"}, "l'opérateur alice (cloister sur le serveur)"},
		{"fr", &service.Actor{Method: service.MethodConsole, Via: service.ViaCLI}, "l'opérateur (cloister sur le serveur)"},
		{"en", &service.Actor{Method: service.MethodConsole, Via: service.ViaCLI, Name: "alice"}, "the operator alice (cloister on the server)"},
		{"de", &service.Actor{Method: service.MethodToken, Via: service.ViaAPI, Address: "ann@subs.test"}, "ann@subs.test"},
		{"de", nil, "ann@subs.test"},
	} {
		cat, err := mailtext.LoadCatalog(nil, tt.lang)
		if err != nil {
			t.Fatal(err)
		}
		c := &Context{List: &lists.List{Address: "team@lists.test"}, Sender: "ann@subs.test", As: tt.as}
		c.List.Settings.Language = tt.lang
		var got string
		switch d := c.decider().(type) {
		case string:
			got = d
		case rules.Reason:
			got = d.Render(cat)
		default:
			t.Fatalf("decider gave %T", d)
		}
		if got != tt.want {
			t.Errorf("%s %+v: %q, want %q", tt.lang, tt.as, got, tt.want)
		}
	}
}
