package rules

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// designExample is the scenario of DESIGN.md section 7, verbatim.
const designExample = `is_subscriber([listname],[sender])   pgp,smime -> do_it
is_editor([listname],[sender])       pgp,smime -> do_it
true()                               md5       -> do_it
is_subscriber([listname],[sender])   smtp      -> request_auth
true()                               smtp,md5,pgp,smime -> reject(reason='send_subscribers_signed')
`

// sympaExample is the example from Sympa's documentation quoted in issue 5,
// verbatim.
const sympaExample = `is_subscriber (spammer,[sender]) smtp,smime -> reject,quiet
match([header->Content-type],/multipart\/alternative/) smtp -> reject
match([header->Content-type],/multipart/) smtp,smime -> editorkey
!is_subscriber ([listname],[sender]) smtp -> request_auth
!is_subscriber ([listname],[sender]) md5,smime -> do_it
true() smtp,smime -> do_it
`

// ruleSummary is a rule rendered canonically, for comparisons.
func ruleSummary(r ScenarioRule) string {
	return r.Cond.String() + " " + strings.Join(r.Methods, ",") + " -> " + actionString(r.Action, r.Reason, r.Quiet)
}

func mustParse(t testing.TB, name, src string) *Scenario {
	t.Helper()
	s, err := ParseScenario(name, []byte(src))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return s
}

func TestParseScenarioExamples(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"design", designExample, []string{
			"is_subscriber([listname],[sender]) pgp,smime -> do_it",
			"is_editor([listname],[sender]) pgp,smime -> do_it",
			"true() md5 -> do_it",
			"is_subscriber([listname],[sender]) smtp -> request_auth",
			"true() smtp,md5,pgp,smime -> reject(reason='send_subscribers_signed')",
		}},
		{"sympa", sympaExample, []string{
			"is_subscriber(spammer,[sender]) smtp,smime -> reject,quiet",
			`match([header->Content-type],/multipart\/alternative/) smtp -> reject`,
			"match([header->Content-type],/multipart/) smtp,smime -> editorkey",
			"!is_subscriber([listname],[sender]) smtp -> request_auth",
			"!is_subscriber([listname],[sender]) md5,smime -> do_it",
			"true() smtp,smime -> do_it",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.name, tt.src)
			var got []string
			for i, r := range s.Rules {
				got = append(got, ruleSummary(r))
				if r.Line != i+1 {
					t.Errorf("rule %d: line %d, want %d", i, r.Line, i+1)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParseScenarioForms(t *testing.T) {
	tests := []struct {
		line string
		want string // canonical rule, reason and quiet included
	}{
		{"true() smtp -> do_it", "true() smtp -> do_it"},
		{"  true ( )\tsmtp , md5,pgp ,smime->do_it  ", "true() smtp,md5,pgp,smime -> do_it"},
		{"! is_owner( [listname] , [sender] ) md5 -> owner", "!is_owner([listname],[sender]) md5 -> owner"},
		{"is_listmaster([sender]) smtp -> do_it,quiet", "is_listmaster([sender]) smtp -> do_it,quiet"},
		{"is_editor(other@example.org,[signer]) pgp -> editor", "is_editor(other@example.org,[signer]) pgp -> editor"},
		{"equal([header->X-Loop],'list@example.org') smtp -> discard", "equal([header->X-Loop],list@example.org) smtp -> discard"},
		{`equal([sender],"Bob O'Neil") smtp -> reject`, `equal([sender],"Bob O'Neil") smtp -> reject`},
		{"equal([msg->size],'') smtp -> reject", "equal([msg->size],'') smtp -> reject"},
		{"match([sender],/@(a|b)\\.example$/) smtp -> editorkey,quiet", "match([sender],/@(a|b)\\.example$/) smtp -> editorkey,quiet"},
		{"match([header->Subject], /[a-z]{3,}/) smtp -> owner,quiet", "match([header->Subject],/[a-z]{3,}/) smtp -> owner,quiet"},
		{"is_encrypted() pgp,smime -> do_it", "is_encrypted() pgp,smime -> do_it"},
		{"!is_signed() smtp -> request_auth", "!is_signed() smtp -> request_auth"},
		{"true() smtp -> reject(reason='send_closed')", "true() smtp -> reject(reason='send_closed')"},
		{"true() smtp -> reject( reason = \"send closed\" ) , quiet", "true() smtp -> reject(reason='send closed'),quiet"},
		{"true() smtp -> reject(reason=bare_word),quiet # why", "true() smtp -> reject(reason='bare_word'),quiet"},
		{"true() smtp -> editorkey", "true() smtp -> editorkey"},
		{"true() smtp -> request_auth\r", "true() smtp -> request_auth"},
		{"\ufefftrue() smtp -> do_it", "true() smtp -> do_it"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			s := mustParse(t, "t", tt.line)
			if len(s.Rules) != 1 {
				t.Fatalf("%d rules, want 1", len(s.Rules))
			}
			if got := ruleSummary(s.Rules[0]); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestParseScenarioTitleAndComments(t *testing.T) {
	src := "# what this allows\n" +
		"title.fr réservé aux abonnés\n" +
		"title restricted\n" +
		"\n" +
		"   # indented comment\n" +
		"title.gettext restricted to subscribers\n" +
		"true() smtp -> do_it # trailing comment\n" +
		"title other\n"
	s := mustParse(t, "send.x", src)
	if s.Title != "restricted to subscribers" {
		t.Errorf("title %q", s.Title)
	}
	if len(s.Rules) != 1 || s.Rules[0].Line != 7 || s.Rules[0].Text != "true() smtp -> do_it" {
		t.Errorf("rules %+v", s.Rules)
	}
	if s.Name != "send.x" {
		t.Errorf("name %q", s.Name)
	}
}

func TestParseScenarioErrorsInline(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		// The example of the brief: line 3, column 14 (12 blanks and "!").
		{"send.custom", "# custom\n\n            !is_subscribr([listname],[sender]) smtp -> do_it\n",
			`send.custom:3:14: unknown condition "is_subscribr"`},
		{"f", "true smtp -> do_it", `f:1:6: expected "(" after true, found 's'`},
		{"f", "true() -> do_it", `f:1:8: expected authentication methods (smtp, md5, pgp, smime) before "->", found '-'`},
		{"f", "true() smtp,dkim -> do_it", `f:1:13: unknown method "dkim" (Sympa's dkim is not a method here; known: smtp, md5, pgp, smime)`},
		{"f", "true() smtp,sms -> do_it", `f:1:13: unknown method "sms" (known: smtp, md5, pgp, smime)`},
		{"f", "true() smtp, -> do_it", `f:1:14: expected a method after ",", found '-'`},
		{"f", "true() smtp do_it", `f:1:13: expected "->" before the action, found 'd'`},
		{"f", "true() smtp ->", `f:1:15: expected an action after "->", found end of line`},
		{"f", "true() smtp -> accept", `f:1:16: unknown action "accept" (known: do_it, reject, request_auth, editorkey, editor, owner, discard)`},
		{"f", "true() smtp -> do_it(reason='x')", `f:1:21: only reject takes parameters`},
		{"f", "true() smtp -> reject(tt2='x')", `f:1:23: unknown reject parameter "tt2" (only reason='...')`},
		{"f", "true() smtp -> reject(reason='x'", `f:1:33: expected ")" to close reject(, found end of line`},
		{"f", "true() smtp -> reject(reason='x)", `f:1:30: unterminated quoted reason`},
		{"f", "true() smtp -> reject(reason='')", `f:1:30: empty reason`},
		{"f", "true() smtp -> reject,loud", `f:1:23: unknown action modifier "loud" (only quiet)`},
		{"f", "true() smtp -> discard,quiet", `f:1:24: discard does not take quiet`},
		{"f", "true() smtp -> request_auth,quiet", `f:1:29: request_auth does not take quiet`},
		{"f", "true() smtp -> do_it extra", `f:1:22: unexpected 'e' after the action (a comment starts with #)`},
		{"f", "true(x) smtp -> do_it", `f:1:1: true takes no arguments, got 1`},
		{"f", "is_subscriber([sender]) smtp -> do_it", `f:1:1: is_subscriber takes 2 argument(s) (list, address), got 1`},
		{"f", "!is_listmaster() smtp -> do_it", `f:1:2: is_listmaster takes 1 argument(s) (address), got 0`},
		{"f", "is_owner([listname] [sender]) smtp -> do_it", `f:1:21: expected "," or ")" in is_owner(...), found '['`},
		{"f", "is_owner([listname],[sender] smtp -> do_it", `f:1:30: expected "," or ")" in is_owner(...), found 's'`},
		{"f", "is_owner([listname],", `f:1:21: expected an argument, found end of line`},
		{"f", "is_owner([listname],[sender]", `f:1:29: missing ")" to close is_owner(`},
		{"f", "is_owner([list],[sender]) smtp -> do_it", `f:1:10: unknown variable [list] (known: [sender], [listname], [signer], [msg->size], [header->Name])`},
		{"f", "is_owner([listname,[sender]) smtp -> do_it", `f:1:10: unknown variable [listname,[sender] (known: [sender], [listname], [signer], [msg->size], [header->Name])`},
		{"f", "equal([header->Bad:Name],x) smtp -> do_it", `f:1:7: bad header name "Bad:Name" in [header->Name]`},
		{"f", "equal([sender,x) smtp -> do_it", `f:1:7: missing "]" to close the variable`},
		{"f", "equal([sender],'x) smtp -> do_it", `f:1:16: unterminated quoted string`},
		{"f", "match([sender],'x') smtp -> do_it", `f:1:16: match needs a /regex/ as its second argument`},
		{"f", "match([sender],/x) smtp -> do_it", `f:1:16: unterminated /regex/`},
		{"f", "match([sender],//) smtp -> do_it", `f:1:16: empty regex matches everything; use true()`},
		{"f", "match([sender],/(x/) smtp -> do_it", "f:1:16: bad regex: error parsing regexp: missing closing ): `(?i)(x`"},
		{"f", "equal(/x/,[sender]) smtp -> do_it", `f:1:7: a /regex/ is only allowed as the second argument of match`},
		{"f", "!!true() smtp -> do_it", `f:1:2: expected a condition, found '!'`},
		{"f", "-> do_it", `f:1:1: expected a condition, found '-'`},
		{"f", "title.gettext", `f:1:14: title without text`},
		{"f", "# only comments\n\n", `f:1:1: no rules: a scenario needs at least one ` + "`condition methods -> action`" + ` line`},
		{"f", "", `f:1:1: no rules: a scenario needs at least one ` + "`condition methods -> action`" + ` line`},
		{"f", "équal([sender],x) smtp -> do_it", `f:1:1: expected a condition, found 'é'`},
		{"f", "equal([sender],'é') smtp -> reject(reason=x), quiet, quiet", `f:1:52: unexpected ',' after the action (a comment starts with #)`},
		{"f", "true() smtp -> do_it\n" + strings.Repeat("x", MaxScenarioLine+1), `f:2:4097: line longer than 4096 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			s, err := ParseScenario(tt.name, []byte(tt.src))
			if err == nil {
				t.Fatalf("parsed %+v, want error %s", s, tt.want)
			}
			if s != nil {
				t.Errorf("scenario returned with an error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			var se *ScenarioError
			if !errors.As(err, &se) {
				t.Errorf("error %T is not a *ScenarioError", err)
			}
		})
	}
}

func TestParseScenarioLimits(t *testing.T) {
	big := []byte(strings.Repeat("# x\n", MaxScenarioSize/4+1))
	_, err := ParseScenario("big", big)
	if err == nil || err.Error() != "big:1:1: file larger than 262144 bytes" {
		t.Errorf("oversize file: %v", err)
	}
	many := strings.Repeat("true() smtp -> do_it\n", MaxScenarioRules+1)
	_, err = ParseScenario("many", []byte(many))
	if err == nil || err.Error() != "many:1001:1: more than 1000 rules" {
		t.Errorf("too many rules: %v", err)
	}
	bad := strings.Repeat("nonsense\n", 200)
	_, err = ParseScenario("bad", []byte(bad))
	var es ScenarioErrors
	if !errors.As(err, &es) || len(es) != maxScenarioErrors+1 || es[len(es)-1].Msg != "too many errors" {
		t.Errorf("error flood: %d errors, last %v", len(es), es[len(es)-1])
	}
}

// TestParseScenarioGolden parses every malformed file in testdata/scenario_errors
// and compares all its errors, one per line, with the .err golden file beside
// it. Run with -update to rewrite the golden files.
func TestParseScenarioGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "scenario_errors", "*.scn"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/scenario_errors/*.scn: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, perr := ParseScenario(filepath.Base(f), src)
			if perr == nil {
				t.Fatalf("no error for %s", f)
			}
			var es ScenarioErrors
			if !errors.As(perr, &es) {
				t.Fatalf("error %T is not ScenarioErrors", perr)
			}
			got := perr.Error() + "\n"
			golden := strings.TrimSuffix(f, ".scn") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run with -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
			// Every line of the file that is not blank, a comment or a title
			// is wrong in these files, and each must be reported.
			bad := 0
			for _, l := range strings.Split(string(src), "\n") {
				l = strings.TrimSpace(l)
				if l != "" && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "title") {
					bad++
				}
			}
			if len(es) != bad {
				t.Errorf("%d errors for %d bad lines", len(es), bad)
			}
		})
	}
}
