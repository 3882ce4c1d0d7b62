package rules

import (
	"net/textproto"
	"strings"
	"testing"
)

const testList = "team@lists.example.org"

// fakeRoster answers from sets of lowercase "list addr" pairs, and records
// every question so tests can check what reached it.
type fakeRoster struct {
	subscribers, owners, editors map[string]bool // keys "list addr"
	listmasters                  map[string]bool
	asked                        []string
}

func (r *fakeRoster) IsSubscriber(list, addr string) bool {
	r.asked = append(r.asked, "sub "+list+" "+addr)
	return r.subscribers[list+" "+addr]
}

func (r *fakeRoster) IsOwner(list, addr string) bool {
	r.asked = append(r.asked, "own "+list+" "+addr)
	return r.owners[list+" "+addr]
}

func (r *fakeRoster) IsEditor(list, addr string) bool {
	r.asked = append(r.asked, "ed "+list+" "+addr)
	return r.editors[list+" "+addr]
}

func (r *fakeRoster) IsListmaster(addr string) bool {
	r.asked = append(r.asked, "lm "+addr)
	return r.listmasters[addr]
}

// testRoster: sub@ subscribes, mod@ moderates, boss@ owns (neither of them
// subscribed), root@ is listmaster, and spam@ is on the list "spammer".
func testRoster() *fakeRoster {
	return &fakeRoster{
		subscribers: map[string]bool{testList + " sub@example.org": true, "spammer spam@example.net": true},
		owners:      map[string]bool{testList + " boss@example.org": true},
		editors:     map[string]bool{testList + " mod@example.org": true},
		listmasters: map[string]bool{"root@example.org": true},
	}
}

func headerOf(fields ...string) func(string) []string {
	h := textproto.MIMEHeader{}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, ": ")
		h.Add(k, v)
	}
	return h.Values
}

func TestEvaluateDesignExample(t *testing.T) {
	s := mustParse(t, "send.design", designExample)
	signed := "reject(reason='send_subscribers_signed')"
	tests := []struct {
		sender, method, want string
		line                 int
	}{
		{"sub@example.org", "pgp", "do_it", 1},
		{"Sub@Example.ORG", "smime", "do_it", 1},
		{"mod@example.org", "pgp", "do_it", 2},
		{"mod@example.org", "smtp", signed, 5},
		{"sub@example.org", "md5", "do_it", 3},
		{"stranger@example.net", "md5", "do_it", 3},
		{"sub@example.org", "smtp", "request_auth", 4},
		{"stranger@example.net", "smtp", signed, 5},
		{"stranger@example.net", "pgp", signed, 5},
		{"stranger@example.net", "smime", signed, 5},
		{"sub@example.org", "", "reject(reason='no rule matched')", 0},
		{"sub@example.org", "dkim", "reject(reason='no rule matched')", 0},
	}
	for _, tt := range tests {
		t.Run(tt.sender+"/"+tt.method, func(t *testing.T) {
			d, trace := s.Evaluate(Env{Sender: tt.sender, ListName: testList, Method: tt.method, Roster: testRoster()})
			if d.String() != tt.want || d.Line != tt.line {
				t.Errorf("got %s (line %d), want %s (line %d)\n%s", d, d.Line, tt.want, tt.line, FormatScenarioTrace(d, trace))
			}
			if d.Scenario != "send.design" || d.Method != tt.method {
				t.Errorf("decision names scenario %q method %q", d.Scenario, d.Method)
			}
			checkTrace(t, d, trace, len(s.Rules))
		})
	}
}

// checkTrace checks a trace is consistent with its decision: rules in order,
// only the last may decide, and it does exactly when a rule decided.
func checkTrace(t *testing.T, d Decision, trace []Trace, rules int) {
	t.Helper()
	if d.Line == 0 && len(trace) != rules {
		t.Errorf("no rule decided but %d of %d rules traced", len(trace), rules)
	}
	for i, tr := range trace {
		last := i == len(trace)-1
		if tr.Decided != (last && d.Line != 0) {
			t.Errorf("trace %d (line %d): decided=%t", i, tr.Line, tr.Decided)
		}
		if tr.Decided && (!tr.MethodOK || !tr.Matched || tr.Line != d.Line) {
			t.Errorf("deciding trace %+v inconsistent with decision line %d", tr, d.Line)
		}
		if tr.Why == "" || tr.Rule == "" {
			t.Errorf("trace %d lacks rule or why: %+v", i, tr)
		}
		if i > 0 && trace[i-1].Line >= tr.Line {
			t.Errorf("trace out of order at %d", i)
		}
	}
}

func TestEvaluateSympaExample(t *testing.T) {
	s := mustParse(t, "send.sympa", sympaExample)
	alt := "Content-Type: multipart/alternative; boundary=x"
	mixed := "Content-type: Multipart/Mixed; boundary=y"
	plain := "Content-Type: text/plain"
	tests := []struct {
		name, sender, method, header, want string
	}{
		{"spammer quietly rejected", "spam@example.net", "smtp", plain, "reject,quiet"},
		{"spammer signed still rejected", "Spam@Example.NET", "smime", plain, "reject,quiet"},
		{"spammer md5 not covered by rule 1", "spam@example.net", "md5", plain, "do_it"},
		{"alternative rejected by smtp", "sub@example.org", "smtp", alt, "reject"},
		{"alternative by smime is held", "sub@example.org", "smime", alt, "editorkey"},
		{"multipart case-insensitive held", "sub@example.org", "smtp", mixed, "editorkey"},
		{"subscriber plain smtp", "sub@example.org", "smtp", plain, "do_it"},
		{"stranger smtp must confirm", "stranger@example.net", "smtp", plain, "request_auth"},
		{"stranger confirmed", "stranger@example.net", "md5", plain, "do_it"},
		{"subscriber md5 not in any rule", "sub@example.org", "md5", plain, "reject(reason='no rule matched')"},
		{"stranger smime", "stranger@example.net", "smime", plain, "do_it"},
		{"pgp is in no rule", "sub@example.org", "pgp", plain, "reject(reason='no rule matched')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, trace := s.Evaluate(Env{Sender: tt.sender, ListName: testList, Method: tt.method,
				Header: headerOf(tt.header), Roster: testRoster()})
			if d.String() != tt.want {
				t.Errorf("got %s, want %s\n%s", d, tt.want, FormatScenarioTrace(d, trace))
			}
			checkTrace(t, d, trace, len(s.Rules))
		})
	}
}

func TestEvaluateConditions(t *testing.T) {
	env := Env{
		Sender:    "Bob <Bob@Example.ORG>",
		ListName:  testList,
		Signer:    "bob@example.org",
		Method:    "smtp",
		Encrypted: true,
		Size:      12345,
		Header: headerOf("Subject: Hello World", "Received: from a", "Received: from b",
			"Reply-To: \"Sub Scriber\" <SUB@example.org>"),
	}
	tests := []struct {
		cond string
		want bool
	}{
		{"true()", true},
		{"!true()", false},
		{"is_encrypted()", true},
		{"is_signed()", false},
		{"!is_signed()", true},
		{"equal([sender],'bob@example.org')", false}, // equal compares the raw value
		{"equal([signer],'BOB@example.org')", true},
		{"equal([msg->size],12345)", true},
		{"equal([header->subject],'hello world')", true},
		{"equal([header->X-Absent],'')", true},
		{"equal([header->Subject],'')", false},
		{"match([header->Received],/from b$/)", true},
		{"match([header->Received],/from c/)", false},
		{"match([header->SUBJECT],/^HELLO/)", true},
		{"match([sender],/@example\\.org>$/)", true},
		{"match([msg->size],/^1\\d{4}$/)", true},
		{"match([header->X-Absent],/./)", false},
		{"is_subscriber([listname],[header->Reply-To])", true},
		{"is_subscriber([listname],[sender])", false},
		{"is_subscriber('" + strings.ToUpper(testList) + "','sub@example.org')", true},
		{"is_owner([listname],boss@example.org)", true},
		{"is_editor([listname],'Mod <mod@example.org>')", true},
		{"is_listmaster(root@EXAMPLE.org)", true},
		{"is_listmaster([sender])", false},
		{"is_subscriber([listname],[header->X-Absent])", false},
		{"is_subscriber(spammer,spam@example.net)", true},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			s := mustParse(t, "t", tt.cond+" smtp -> do_it")
			e := env
			roster := testRoster()
			e.Roster = roster
			_, trace := s.Evaluate(e)
			if len(trace) != 1 || trace[0].Matched != tt.want {
				t.Fatalf("got %+v, want matched=%t", trace, tt.want)
			}
			for _, q := range roster.asked {
				if q != strings.ToLower(q) {
					t.Errorf("roster asked %q: not lowercased", q)
				}
				if strings.HasSuffix(q, " ") {
					t.Errorf("roster asked about an empty address: %q", q)
				}
			}
		})
	}
}

func TestEvaluateNoRoster(t *testing.T) {
	s := mustParse(t, "t", "is_subscriber([listname],[sender]) smtp -> do_it\n!is_owner([listname],[sender]) smtp -> owner\n")
	d, trace := s.Evaluate(Env{Sender: "sub@example.org", ListName: testList, Method: "smtp"})
	if d.String() != "owner" || !strings.Contains(trace[0].Why, "no roster") {
		t.Errorf("got %s, trace %+v", d, trace)
	}
	var nilScenario *Scenario
	if d, tr := nilScenario.Evaluate(Env{Method: "smtp"}); d.String() != "reject(reason='no rule matched')" || tr != nil {
		t.Errorf("nil scenario: %s %v", d, tr)
	}
}

func TestEvaluateEmptySenderNotAsked(t *testing.T) {
	s := mustParse(t, "t", "is_subscriber([listname],[sender]) smtp -> do_it")
	roster := testRoster()
	d, _ := s.Evaluate(Env{Sender: "  ", ListName: testList, Method: "smtp", Roster: roster})
	if d.Action != ScenarioReject || len(roster.asked) != 0 {
		t.Errorf("decision %s, roster asked %v", d, roster.asked)
	}
}

func TestFormatScenarioTrace(t *testing.T) {
	s := mustParse(t, "send.private", "title.gettext x\n"+
		"is_subscriber([listname],[sender])   pgp -> do_it\n"+
		"!is_subscriber([listname],[sender])  smtp,md5 -> reject(reason='send_subscriber'),quiet\n"+
		"true()                               smtp -> editorkey\n")
	d, trace := s.Evaluate(Env{Sender: "sub@example.org", ListName: testList, Method: "smtp", Roster: testRoster()})
	got := FormatScenarioTrace(d, trace)
	want := `scenario send.private, method smtp
  line 2   is_subscriber([listname],[sender])   pgp -> do_it
           skipped: method smtp not in pgp
  line 3   !is_subscriber([listname],[sender])  smtp,md5 -> reject(reason='send_subscriber'),quiet
           no: !is_subscriber is false (is_subscriber([listname]="team@lists.example.org", [sender]="sub@example.org") is true)
  line 4   true()                               smtp -> editorkey
           DECIDES: true() is true
decision: editorkey (line 4)
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	d, trace = s.Evaluate(Env{Sender: "sub@example.org", ListName: testList, Method: "smime", Roster: testRoster()})
	got = FormatScenarioTrace(d, trace)
	if !strings.HasSuffix(got, "decision: reject(reason='no rule matched') (no rule matched: rejected)\n") {
		t.Errorf("no match:\n%s", got)
	}
}

func TestDecisionString(t *testing.T) {
	tests := []struct {
		d    Decision
		want string
	}{
		{Decision{Action: ScenarioDoIt}, "do_it"},
		{Decision{Action: ScenarioDoIt, Quiet: true}, "do_it,quiet"},
		{Decision{Action: ScenarioReject}, "reject"},
		{Decision{Action: ScenarioReject, Quiet: true}, "reject,quiet"},
		{Decision{Action: ScenarioReject, Reason: "send_closed", Quiet: true}, "reject(reason='send_closed'),quiet"},
		{Decision{Action: ScenarioRequestAuth}, "request_auth"},
		{Decision{Action: ScenarioDiscard}, "discard"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
	}
}

func BenchmarkEvaluatePrivateKey(b *testing.B) {
	s, err := NewScenarioSet("").Get("send.private_key")
	if err != nil {
		b.Fatal(err)
	}
	env := Env{Sender: "stranger@example.net", ListName: testList, Method: "pgp", Roster: testRoster()}
	for b.Loop() {
		env.Roster.(*fakeRoster).asked = nil
		s.Evaluate(env)
	}
}

func BenchmarkParseScenario(b *testing.B) {
	src := []byte(sympaExample + designExample)
	for b.Loop() {
		if _, err := ParseScenario("b", src); err != nil {
			b.Fatal(err)
		}
	}
}
