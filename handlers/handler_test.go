package handlers

import (
	"errors"
	"strings"
	"testing"

	"cloister/internal/refusal"
)

func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, h := range All {
		if h.Name() == "" || strings.ToLower(h.Name()) != h.Name() || strings.ContainsAny(h.Name(), " _") {
			t.Errorf("bad handler name %q", h.Name())
		}
		if seen[h.Name()] {
			t.Errorf("handler %q listed twice", h.Name())
		}
		seen[h.Name()] = true
		if d := h.Description(); d == "" || strings.Contains(d, "\n") {
			t.Errorf("%s: description %q must be one line", h.Name(), d)
		}
		if got, ok := Lookup(h.Name()); !ok || got.Name() != h.Name() {
			t.Errorf("Lookup(%q) failed", h.Name())
		}
	}
	want := []string{"cleanse", "protected-headers", "anonymous", "from-name", "reply-to", "strip-signature", "content-filter", "headers-to-meta", "dmarc", "subject-prefix", "footer", "rfc2369"}
	if got := DefaultPipeline(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("DefaultPipeline() = %v, want %v", got, want)
	}
}

const simplePost = "From: a@example.org\nTo: team@lists.example.test\nSubject: hi\n\nbody\n"

func TestRunUnknownHandler(t *testing.T) {
	ctx := newTestContext(t, []byte(simplePost), caseConfig{})
	before := string(ctx.Msg.Bytes())
	ran, err := Run([]string{"cleanse", "no-such-handler", "rfc2369"}, ctx)
	if !errors.Is(err, ErrUnknownHandler) {
		t.Fatalf("err = %v, want ErrUnknownHandler", err)
	}
	if len(ran) != 0 || string(ctx.Msg.Bytes()) != before {
		t.Fatalf("handlers ran before the unknown name was reported: %v", ran)
	}
}

func TestRunStopsAtReject(t *testing.T) {
	raw := "From: a@example.org\nSubject: hi\nContent-Type: text/html\n\n<p>x</p>\n"
	ctx := newTestContext(t, []byte(raw), caseConfig{Settings: []byte(`{"content_filter": "image/*"}`)})
	ran, err := Run(DefaultPipeline(), ctx)
	var re *refusal.RejectError
	if !errors.As(err, &re) || re.Step != "content-filter" {
		t.Fatalf("err = %v, want a *refusal.RejectError from content-filter", err)
	}
	if strings.Join(ran, " ") != "cleanse protected-headers anonymous from-name reply-to strip-signature" {
		t.Fatalf("ran = %v", ran)
	}
	if strings.Contains(re.Reason.String(), "image/*") {
		t.Errorf("the reason shown to the sender quotes the configuration: %q", re.Reason.String())
	}
}

func TestRunDiscardsLoop(t *testing.T) {
	raw := "From: a@example.org\nX-Loop: TEAM@lists.example.test\nSubject: hi\n\nbody\n"
	ctx := newTestContext(t, []byte(raw), caseConfig{})
	if _, err := Run(DefaultPipeline(), ctx); !errors.Is(err, refusal.ErrDiscard) {
		t.Fatalf("err = %v, want refusal.ErrDiscard", err)
	}
}

func TestRunTwiceIsStable(t *testing.T) {
	// A post that went through the pipeline once and comes back without
	// its X-Loop (an owner re-posting it) keeps one prefix and one set of
	// List-* fields: the second run gives the same bytes.
	ctx := newTestContext(t, []byte(simplePost), caseConfig{})
	if _, err := Run(DefaultPipeline(), ctx); err != nil {
		t.Fatal(err)
	}
	ctx.Msg.Del("X-Loop")
	ctx.Msg.Add("X-Loop", "team@lists.example.test")
	first := string(ctx.Msg.Bytes())
	ctx.Msg.Del("X-Loop")
	if _, err := Run(DefaultPipeline(), ctx); err != nil {
		t.Fatal(err)
	}
	if got := string(ctx.Msg.Bytes()); got != first {
		t.Fatalf("second run differs:\n%s\nfirst:\n%s", got, first)
	}
	if s := ctx.Msg.Get("Subject"); s != "[team] hi" {
		t.Fatalf("Subject after two runs = %q", s)
	}
}

func TestListID(t *testing.T) {
	for _, c := range []struct{ desc, want string }{
		{"", "<team.lists.example.test>"},
		{"Team discussion", `"Team discussion" <team.lists.example.test>`},
		{`Say "hi"`, `"Say \"hi\"" <team.lists.example.test>`},
		{"Équipe", "=?utf-8?q?=C3=89quipe?= <team.lists.example.test>"},
		{"line\nbreak", `"line break" <team.lists.example.test>`},
		{strings.Repeat("é", 100), "=?utf-8?q?" + strings.Repeat("=C3=A9", 10) + "?= =?utf-8?q?" + strings.Repeat("=C3=A9", 10) + "?= =?utf-8?q?" + strings.Repeat("=C3=A9", 10) + "?= =?utf-8?q?" + strings.Repeat("=C3=A9", 10) + "?= =?utf-8?q?" + strings.Repeat("=C3=A9", 10) + "?= =?utf-8?q?" + strings.Repeat("=C3=A9", 10) + "?= <team.lists.example.test>"},
	} {
		if got := ListID(c.desc, "team", "lists.example.test"); got != c.want {
			t.Errorf("ListID(%q) = %q, want %q", c.desc, got, c.want)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"<p>a</p><p>b</p>", "a\n\nb\n"},
		{"x<br>y", "x\ny\n"},
		{"<script>alert(1)</script>ok", "ok\n"},
		{`<a href="https://e.example/">https://e.example/</a>`, "https://e.example/\n"},
		{`<a href="https://e.example/?a=1&amp;b=2">link</a>`, "link <https://e.example/?a=1&b=2>\n"},
		{"&lt;tag&gt; &amp;", "<tag> &\n"},
		{"a<!-- hidden -->b", "ab\n"},
		{"<A HREF=https://e.example/x>go</a>", "go <https://e.example/x>\n"},
		{"<a href='javascript:x()'>no</a>", "no\n"},
		{"<ul><li>one<li>two</ul>", "* one\n* two\n"},
		{"<style>p{}</style><STYLE>q</STYLE>t", "t\n"},
		{"text <unterminated", "text\n"},
		{"<p>a\r\nb</p>", "a b\n"},
		{"", ""},
	} {
		if got := HTMLToText(c.in); got != c.want {
			t.Errorf("HTMLToText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
