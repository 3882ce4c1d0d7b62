package runners

import (
	"bytes"
	"encoding/base64"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cloister/commands"
	"cloister/etc"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/mailtext"
	"cloister/moderation"
	"cloister/queue"
)

var (
	fragmentsOnce sync.Once
	fragments     map[string][]string // language: English fragments not in its translation
	fragmentsErr  error
)

var (
	// fragmentSplit cuts English texts where an argument or a template
	// action goes, and at line and sentence breaks.
	fragmentSplit = regexp.MustCompile(`%(\[\d+\])?[-+# 0-9.]*[a-zA-Z]|\{\{.*?\}\}|\n|[.;:()"„“«»?]\s*`)
	fragmentWord  = regexp.MustCompile(`[A-Za-z]{2,}`)
	spaces        = regexp.MustCompile(`\s+`)
)

// englishFragments returns, for lang, the runs of fixed English text (three
// words or more) of the English catalogue and templates that do not appear
// in lang's own catalogue and templates (command names, settings, shell
// commands do and are left out): none of them may appear in a mail of a
// list in lang.
func englishFragments(t *testing.T, lang string) []string {
	t.Helper()
	fragmentsOnce.Do(func() {
		texts := map[string]string{}
		var en []string
		fragmentsErr = fs.WalkDir(etc.Templates, "templates", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			parts := strings.Split(p, "/")
			l := parts[1]
			src, err := fs.ReadFile(etc.Templates, p)
			if err != nil {
				return err
			}
			if strings.HasSuffix(p, mailtext.CatalogFile) {
				m, err := mailtext.ParsePO(string(src))
				if err != nil {
					return err
				}
				for id, s := range m {
					if l == "en" {
						en = append(en, id)
					} else {
						texts[l] += s + "\n"
					}
				}
				return nil
			}
			if l == "en" {
				en = append(en, string(src))
			} else {
				texts[l] += string(src) + "\n"
			}
			return nil
		})
		fragments = map[string][]string{}
		for l, own := range texts {
			own = spaces.ReplaceAllString(own, " ")
			seen := map[string]bool{}
			for _, e := range en {
				for _, f := range fragmentSplit.Split(e, -1) {
					f = strings.Trim(spaces.ReplaceAllString(f, " "), " ,'-|/=*>")
					words := fragmentWord.FindAllString(f, -1)
					if len(words) < 3 || seen[f] || strings.Contains(own, f) || syntax(words) {
						continue
					}
					seen[f] = true
					fragments[l] = append(fragments[l], f)
				}
			}
			sort.Strings(fragments[l])
		}
	})
	if fragmentsErr != nil {
		t.Fatal(fragmentsErr)
	}
	if len(fragments[lang]) < 100 {
		t.Fatalf("only %d English fragments for %s", len(fragments[lang]), lang)
	}
	return fragments[lang]
}

// syntax reports a command's syntax ("vouch ADDRESS FINGERPRINT"): a
// command word and upper-case placeholders, which help shows as written.
func syntax(words []string) bool {
	for _, w := range words[1:] {
		if w != strings.ToUpper(w) {
			return false
		}
	}
	return true
}

// noEnglish fails when a text Cloister mailed in lang holds a fragment of
// the English catalogue or templates that lang's translation does not have.
func noEnglish(t *testing.T, lang, what, text string) {
	t.Helper()
	flat := spaces.ReplaceAllString(text, " ")
	for _, f := range englishFragments(t, strings.SplitN(lang, "-", 2)[0]) {
		if strings.Contains(flat, f) {
			t.Errorf("%s in %s holds the English %q:\n%s", what, lang, f, text)
		}
	}
}

// clearText returns the decoded Subject and every text part of a mail that
// is not encrypted (plain, or signed: the signed parts are read).
func clearText(t *testing.T, raw []byte) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("unreadable mail: %v\n%s", err, raw)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(subj + "\n")
	textParts(t, &b, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return b.String()
}

func textParts(t *testing.T, b *strings.Builder, ctype, cte string, body io.Reader) {
	t.Helper()
	if ctype == "" {
		ctype = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		t.Fatalf("content type %q: %v", ctype, err)
	}
	switch strings.ToLower(cte) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			textParts(t, b, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
		}
	case mt == "message/rfc822":
		// a post attached to a notice: its words are not Cloister's
	case strings.HasPrefix(mt, "text/"):
		data, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
		b.WriteString("\n")
	}
}

// TestEnglishFragmentsCatch: the heuristic finds the English of a mail of an
// English list, and not the words a translation shares with English.
func TestEnglishFragmentsCatch(t *testing.T) {
	for _, lang := range []string{"de", "fr"} {
		fs := englishFragments(t, lang)
		has := func(s string) bool {
			for _, f := range fs {
				if f == s {
					return true
				}
			}
			return false
		}
		for _, want := range []string{"the post has no subject", "is held for moderation", "the list owners were asked to approve"} {
			if !has(want) {
				t.Errorf("%s: %q is not a fragment", lang, want)
			}
		}
		for _, shared := range []string{"key get | key set | key change | key revoke", "cloister held approve"} {
			if has(shared) {
				t.Errorf("%s: %q, which the translation shares, is a fragment", lang, shared)
			}
		}
	}
}

// mailsOf returns the clear text of every mail to rcpt.
func mailsOf(t *testing.T, s *testSite, rcpt string) []string {
	t.Helper()
	var out []string
	for _, m := range s.mailbox(t, rcpt) {
		out = append(out, clearText(t, m))
	}
	return out
}

// TestEveryMailInListLanguage renders the mails of a German and a French
// list along every path that needs no key (command replies with every
// command a non-member and a member may send, confirmation requests, the
// welcome, the rejection by a scenario and by a rule, the held notice with
// the reasons of several rules, a moderator's rejection without a reason,
// the expiry of a held post, the owners' approval request) and fails on any
// English fragment of the catalogue or the templates that the translation
// does not have. The paths with keys check their mail with noEnglish in the
// key_*_language tests; the bounce notice, the refusal, the virus notice
// and the resend report in own_mail_language_test.go.
func TestEveryMailInListLanguage(t *testing.T) {
	testdirs.Slow(t, "drives the runners through many mails")
	for _, lang := range []string{"de", "fr"} {
		t.Run(lang, func(t *testing.T) {
			s := newTestSite(t)
			s.setList(t, map[string]string{"language": lang, "max_recipients": "2", "subscribe_policy": "confirm+approve"})
			// Commands from a non-member, and from a member.
			cmds := "help\ninfo\nversion\nwhich\nindex\nget 1\nwho\nkeys\npubkey bob@subs.test\napprove h1\nreject h1 no\ndiscard h1\nconfirm\nconfirm nosuchtoken\nunsubscribe\nset delivery off\nset foo bar\nfrobnicate\nkey\nkey get\nkey set\nkey change\nkey revoke\nkey pending\nkey approve x\nkey sign bob@subs.test\nvouch bob@subs.test\nadd x@y.test\nremove bob@subs.test\nlog\nsign\nend\n"
			lines := strings.SplitAfter(cmds, "\n")
			for i := 0; i < len(lines); i += commands.MaxCommands {
				part := strings.Join(lines[i:min(i+commands.MaxCommands, len(lines))], "")
				for _, from := range []string{"eve@outside.test", "bob@subs.test"} {
					s.deliver(t, queue.SubRequest, from, "From: "+from+"\nSubject: commands\n\n"+part)
				}
			}
			s.drain(t)
			// A subscription, confirmed, then approved by the owner.
			s.deliver(t, queue.SubRequest, "dan@else.test", "From: Dan <dan@else.test>\nSubject: join\n\nsubscribe\n")
			s.drain(t)
			for _, m := range s.mailbox(t, "dan@else.test") {
				if strings.Contains(string(m), "team-confirm+") {
					s.deliverConfirm(t, tokenIn(t, string(m)), "dan@else.test", "From: dan@else.test\nSubject: Re\n\nyes\n")
				}
			}
			s.drain(t)
			// A post by a non-member (scenario), and posts a rule holds.
			s.deliver(t, queue.SubPost, "eve@outside.test", "From: eve@outside.test\nTo: team@lists.test\nSubject: hi\nMessage-ID: <e-"+lang+"@outside.test>\n\nhi\n")
			s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test, x@other.test\nCc: y@other.test\nMessage-ID: <b1-"+lang+"@subs.test>\n\nno subject, many recipients\n")
			s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: other@lists.test\nSubject: unsubscribe\nMessage-ID: <b2-"+lang+"@subs.test>\n\nunsubscribe\n")
			s.drain(t)
			var held []string
			if err := s.Lists.View(func(tx *lists.Tx) error {
				hs, err := tx.HeldFor("team@lists.test")
				for _, h := range hs {
					held = append(held, h.ID)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if len(held) != 2 {
				t.Fatalf("held %v, want 2 posts", held)
			}
			if err := moderation.Reject(s.Site, held[0], "", "ann@subs.test"); err != nil {
				t.Fatal(err)
			}
			if _, err := moderation.ExpireHeld(s.Site, time.Now().Add(400*24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			s.drain(t)
			var all []string
			for _, rcpt := range []string{"eve@outside.test", "bob@subs.test", "dan@else.test", "ann@subs.test"} {
				for _, m := range mailsOf(t, s, rcpt) {
					all = append(all, m)
					noEnglish(t, lang, "mail to "+rcpt, m)
				}
			}
			// Each path rendered its mail: the subjects of the templates
			// and the reasons of the rules, in the list's language.
			for _, want := range wantMails[lang] {
				found := false
				for _, m := range all {
					found = found || strings.Contains(spaces.ReplaceAllString(m, " "), want)
				}
				if !found {
					t.Errorf("no mail holds %q", want)
				}
			}
		})
	}
}

// wantMails are words of each mail TestEveryMailInListLanguage makes: the
// help, a refusal, the scenario's rejection, the held notices with the
// rules' reasons (with their arguments), the moderator's rejection, the
// expiry with the reasons kept with the held post, the approval request.
var wantMails = map[string][]string{
	"de": {
		"Dies ist der Cloister-Listenserver für team@lists.test.",
		"Bestätigen: dan@else.test in team@lists.test eintragen",
		"Ihr Beitrag an team@lists.test wurde abgelehnt",
		"nur Mitglieder der Liste dürfen an sie schreiben",
		"der Beitrag hat 3 Empfänger in To und Cc, mehr als 2; der Beitrag hat keinen Betreff",
		"wird zur Moderation zurückgehalten, durch die Eigentümer.",
		"Grund: die Moderatoren haben ihn abgelehnt",
		`Er wurde zurückgehalten, weil: der Betreff sieht aus wie der E-Mail-Befehl "unsubscribe"; die Adresse der Liste steht nicht in To oder Cc.`,
		"(subscribe dan@else.test von dan@else.test)",
	},
	"fr": {
		"Ceci est le serveur de listes Cloister pour team@lists.test.",
		"Confirmer : abonner dan@else.test à team@lists.test",
		"Votre message à team@lists.test a été refusé",
		"seuls les membres de la liste peuvent y écrire",
		"le message a 3 destinataires dans To et Cc, plus de 2; le message n'a pas d'objet",
		"est retenu pour modération par les propriétaires.",
		"Raison : les modérateurs l'ont refusé",
		`Il était retenu parce que : l'objet ressemble à la commande "unsubscribe"; l'adresse de la liste n'est pas dans To ou Cc.`,
		"Approuver : dan@else.test demande à abonner dan@else.test à team@lists.test",
	},
}
