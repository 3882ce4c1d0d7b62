package notices

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"cloister/mailtext"
	"cloister/rules"
)

// reasonPattern matches the English text a rule renders from one of
// rules.ReasonFormats, so that its arguments can be put into the
// translated format.
type reasonPattern struct {
	format string
	re     *regexp.Regexp
	verbs  []byte // 'd', 's' or 'q', one per argument
}

var (
	reasonPatternsOnce sync.Once
	reasonPatterns     []reasonPattern
)

// patterns compiles rules.ReasonFormats once.
func patterns() []reasonPattern {
	reasonPatternsOnce.Do(func() {
		verb := regexp.MustCompile(`%[dsq]`)
		for _, f := range rules.ReasonFormats {
			var b strings.Builder
			var verbs []byte
			b.WriteString("^")
			last := 0
			for _, loc := range verb.FindAllStringIndex(f, -1) {
				b.WriteString(regexp.QuoteMeta(f[last:loc[0]]))
				v := f[loc[0]+1]
				switch v {
				case 'd':
					b.WriteString(`(-?[0-9]+)`)
				case 'q':
					b.WriteString(`("(?:[^"\\]|\\.)*")`)
				default:
					b.WriteString(`(.+?)`)
				}
				verbs = append(verbs, v)
				last = loc[1]
			}
			b.WriteString(regexp.QuoteMeta(f[last:]) + "$")
			reasonPatterns = append(reasonPatterns, reasonPattern{format: f, re: regexp.MustCompile(b.String()), verbs: verbs})
		}
	})
	return reasonPatterns
}

// translateRuleReason translates one reason: a fixed text the catalogue
// knows, or a text rendered from one of rules.ReasonFormats, whose format
// the catalogue translates and whose arguments are kept. A text it cannot
// translate is returned as written.
func translateRuleReason(cat *mailtext.Catalog, text string) string {
	if t := cat.T(text); t != text {
		return t
	}
	for _, p := range patterns() {
		m := p.re.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		args := make([]any, len(p.verbs))
		ok := true
		for i, v := range p.verbs {
			switch v {
			case 'd':
				n, err := strconv.Atoi(m[i+1])
				if err != nil {
					ok = false
				}
				args[i] = n
			case 'q':
				s, err := strconv.Unquote(m[i+1])
				if err != nil {
					ok = false
				}
				args[i] = s
			default:
				args[i] = m[i+1]
			}
		}
		if !ok {
			continue
		}
		if t := cat.Sprintf(p.format, args...); t != text {
			return t
		}
	}
	return text
}
