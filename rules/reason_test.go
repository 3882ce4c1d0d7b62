package rules

import (
	"encoding/json"
	"reflect"
	"testing"

	"cloister/mailtext"
)

// TestReasonRender: a Reason renders its format in the catalogue's language
// with its arguments kept, a Reason argument translated too; Verbatim text
// is never looked up; String is English; Reasons join with "; ".
func TestReasonRender(t *testing.T) {
	fr, err := mailtext.LoadCatalog(nil, "fr")
	if err != nil {
		t.Fatal(err)
	}
	de, err := mailtext.LoadCatalog(nil, "de")
	if err != nil {
		t.Fatal(err)
	}
	both := Reasonf("the list accepts only posts encrypted to its %s key", keyWords([]string{MethodPGP, MethodSMIME}))
	tests := []struct {
		r      Reason
		tr     Translator
		want   string
		wantEn string
	}{
		{Reasonf("the post has %d recipients in To and Cc, more than %d", 9, 5), fr,
			"le message a 9 destinataires dans To et Cc, plus de 5", "the post has 9 recipients in To and Cc, more than 5"},
		{Reasonf("the subject looks like the email command %q", "unsubscribe"), de,
			`der Betreff sieht aus wie der E-Mail-Befehl "unsubscribe"`, `the subject looks like the email command "unsubscribe"`},
		{both, fr, "la liste n'accepte que les messages chiffrés pour sa clé OpenPGP ou S/MIME",
			"the list accepts only posts encrypted to its OpenPGP or S/MIME key"},
		{Verbatim("the post has no subject"), fr, "the post has no subject", "the post has no subject"},
		{Verbatim("100% sure"), fr, "100% sure", "100% sure"},
		{Reasonf("the post has no subject"), fr, "le message n'a pas d'objet", "the post has no subject"},
		{Reasonf("no catalogue has this"), de, "no catalogue has this", "no catalogue has this"},
	}
	for _, tt := range tests {
		if got := tt.r.Render(tt.tr); got != tt.want {
			t.Errorf("Render(%q) = %q, want %q", tt.r.Format, got, tt.want)
		}
		if got := tt.r.String(); got != tt.wantEn {
			t.Errorf("String(%q) = %q, want %q", tt.r.Format, got, tt.wantEn)
		}
	}
	rs := Reasons{Reasonf("the post has no subject"), Reasonf("the %s field matches a suspicious pattern", "X-Mailer")}
	if got, want := rs.Render(de), "der Beitrag hat keinen Betreff; das Feld X-Mailer passt auf ein verdächtiges Muster"; got != want {
		t.Errorf("Reasons.Render = %q, want %q", got, want)
	}
}

// TestReasonJSON: Reasons stored as JSON read back equal, numbers as ints
// (so %d renders), nested Reasons as Reasons; bad JSON is an error.
func TestReasonJSON(t *testing.T) {
	in := Reasons{
		Reasonf("the post is %d KiB, more than the list's limit of %d KiB", 300, 40),
		Reasonf("the post is encrypted with %s; the list accepts only posts encrypted to its %s key", "S/MIME", keyWords([]string{MethodPGP, MethodSMIME})),
		Verbatim("custom"),
		Reasonf("the post has no subject"),
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseReasons(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n got %#v\nwant %#v", out, in)
	}
	if out.String() != in.String() {
		t.Errorf("renders %q, want %q", out.String(), in.String())
	}
	for _, bad := range []string{`{`, `[{"format":1}]`, `[{"format":"%s","args":[{"format":2}]}]`, `"text"`} {
		if _, err := ParseReasons([]byte(bad)); err == nil {
			t.Errorf("ParseReasons(%s): no error", bad)
		}
	}
}
