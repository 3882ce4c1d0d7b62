package rules

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Bounds on scenario input: a scenario is a short hand-written file, so
// anything beyond these is a mistake or an attack, and is refused with an
// error instead of being parsed.
const (
	// MaxScenarioSize is the largest scenario file accepted, in bytes.
	MaxScenarioSize = 256 << 10
	// MaxScenarioLine is the longest line accepted, in bytes.
	MaxScenarioLine = 4096
	// MaxScenarioRules is the largest number of rules in one scenario.
	MaxScenarioRules = 1000
	// maxScenarioErrors is how many errors one file reports before giving up.
	maxScenarioErrors = 50
	// maxReasonLen bounds the text of reject(reason='...').
	maxReasonLen = 200
)

// ScenarioError is one problem in a scenario file, at a 1-based line and
// column (columns count characters, a tab counts as one).
type ScenarioError struct {
	File string // the file name given to ParseScenario, or the path checked
	Line int    // 1-based line
	Col  int    // 1-based column, in characters
	Msg  string // what is wrong, lowercase, without position
}

// Error renders the problem as file:line:col: message.
func (e *ScenarioError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// ScenarioErrors is every problem found in one scenario file, in file order.
type ScenarioErrors []*ScenarioError

// Error renders one problem per line.
func (es ScenarioErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (es ScenarioErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// conditionSpec describes a condition: how many arguments it takes and what
// they are, for error messages.
type conditionSpec struct {
	args []string
}

// scenarioConditions lists every condition the language knows.
var scenarioConditions = map[string]conditionSpec{
	"true":          {},
	"is_encrypted":  {},
	"is_signed":     {},
	"is_subscriber": {args: []string{"list", "address"}},
	"is_owner":      {args: []string{"list", "address"}},
	"is_editor":     {args: []string{"list", "address"}},
	"is_listmaster": {args: []string{"address"}},
	"equal":         {args: []string{"value", "value"}},
	"match":         {args: []string{"value", "/regex/"}},
}

// sympaConditionHints explains Sympa conditions that Cloister does not have,
// for owners bringing scenarios over from Sympa.
var sympaConditionHints = map[string]string{
	"all":            "use true()",
	"include":        "Sympa's include is not supported: copy the rules in",
	"search":         "Sympa's search filters are not supported",
	"less_than":      "Sympa's less_than is not supported; the posting chain limits sizes",
	"verify_netmask": "Sympa's verify_netmask is not supported",
	"older":          "Sympa's older is not supported",
	"newer":          "Sympa's newer is not supported",
	"message":        "Sympa's message condition is not supported",
}

// scenarioActions lists every action the language knows.
var scenarioActions = map[string]ScenarioAction{
	"do_it":        ScenarioDoIt,
	"reject":       ScenarioReject,
	"request_auth": ScenarioRequestAuth,
	"editorkey":    ScenarioEditorkey,
	"editor":       ScenarioEditor,
	"owner":        ScenarioOwner,
	"discard":      ScenarioDiscard,
}

// ParseScenario parses the text of a scenario file. name is used as the
// scenario's name and as the file name in errors. Every problem in the file
// is reported at once, as ScenarioErrors; the result is nil when there is any.
func ParseScenario(name string, src []byte) (*Scenario, error) {
	s := &Scenario{Name: name}
	var errs ScenarioErrors
	if len(src) > MaxScenarioSize {
		return nil, ScenarioErrors{{File: name, Line: 1, Col: 1,
			Msg: fmt.Sprintf("file larger than %d bytes", MaxScenarioSize)}}
	}
	titleRank := 0
	text := strings.TrimPrefix(string(src), "\ufeff") // a byte order mark editors hide
	for lineNo := 1; text != ""; lineNo++ {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		line = strings.TrimSuffix(line, "\r")
		p := &lineParser{file: name, lineNo: lineNo, line: line}
		if len(line) > MaxScenarioLine {
			errs = append(errs, p.errAt(MaxScenarioLine, "line longer than %d bytes", MaxScenarioLine))
		} else if title, rank, ok := parseTitle(line); ok {
			if title == "" {
				errs = append(errs, p.errAt(len(line), "title without text"))
			} else if rank > titleRank {
				s.Title, titleRank = title, rank
			}
		} else if rule, err := p.parseRule(); err != nil {
			errs = append(errs, err)
		} else if rule != nil {
			if len(s.Rules) == MaxScenarioRules {
				errs = append(errs, p.errAt(0, "more than %d rules", MaxScenarioRules))
				break
			}
			s.Rules = append(s.Rules, *rule)
		}
		if len(errs) >= maxScenarioErrors {
			errs = append(errs, &ScenarioError{File: name, Line: lineNo, Col: 1, Msg: "too many errors"})
			break
		}
	}
	if len(errs) == 0 && len(s.Rules) == 0 {
		errs = append(errs, &ScenarioError{File: name, Line: 1, Col: 1,
			Msg: "no rules: a scenario needs at least one `condition methods -> action` line"})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

// parseTitle recognises Sympa's title lines: "title.gettext TEXT" (preferred),
// "title TEXT", and "title.LANG TEXT" (accepted, kept only if nothing better).
// rank orders them; ok is false for any other line.
func parseTitle(line string) (title string, rank int, ok bool) {
	t := strings.TrimLeft(line, " \t")
	word, rest, _ := strings.Cut(t, " ")
	if w, r, found := strings.Cut(t, "\t"); found && len(w) < len(word) {
		word, rest = w, r
	}
	switch {
	case word == "title.gettext":
		rank = 3
	case word == "title":
		rank = 2
	case strings.HasPrefix(word, "title.") && len(word) > len("title."):
		rank = 1
	default:
		return "", 0, false
	}
	return strings.TrimSpace(rest), rank, true
}

// lineParser parses one rule line; pos is a byte offset into line.
type lineParser struct {
	file   string
	lineNo int
	line   string
	pos    int
}

// errAt makes an error at byte offset off of the line.
func (p *lineParser) errAt(off int, format string, args ...any) *ScenarioError {
	if off > len(p.line) {
		off = len(p.line)
	}
	return &ScenarioError{
		File: p.file,
		Line: p.lineNo,
		Col:  utf8.RuneCountInString(p.line[:off]) + 1,
		Msg:  fmt.Sprintf(format, args...),
	}
}

func (p *lineParser) skipBlanks() {
	for p.pos < len(p.line) && (p.line[p.pos] == ' ' || p.line[p.pos] == '\t') {
		p.pos++
	}
}

func (p *lineParser) peek() byte {
	if p.pos < len(p.line) {
		return p.line[p.pos]
	}
	return 0
}

func (p *lineParser) atEnd() bool { return p.pos >= len(p.line) }

// word reads a run of letters, digits and underscores.
func (p *lineParser) word() string {
	start := p.pos
	for p.pos < len(p.line) {
		c := p.line[p.pos]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			p.pos++
			continue
		}
		break
	}
	return p.line[start:p.pos]
}

// describe names what is at the current position, for error messages.
func (p *lineParser) describe() string {
	if p.atEnd() {
		return "end of line"
	}
	r, _ := utf8.DecodeRuneInString(p.line[p.pos:])
	return fmt.Sprintf("%q", r)
}

// parseRule parses the line as a rule; it returns nil, nil for a blank or
// comment line.
func (p *lineParser) parseRule() (*ScenarioRule, *ScenarioError) {
	p.skipBlanks()
	if p.atEnd() || p.peek() == '#' {
		return nil, nil
	}
	start := p.pos
	rule := &ScenarioRule{Line: p.lineNo}
	cond, err := p.parseCondition()
	if err != nil {
		return nil, err
	}
	rule.Cond = cond
	methods, err := p.parseMethods()
	if err != nil {
		return nil, err
	}
	rule.Methods = methods
	p.skipBlanks()
	if !strings.HasPrefix(p.line[p.pos:], "->") {
		return nil, p.errAt(p.pos, "expected \"->\" before the action, found %s", p.describe())
	}
	p.pos += 2
	if err := p.parseAction(rule); err != nil {
		return nil, err
	}
	end := p.pos
	p.skipBlanks()
	if !p.atEnd() && p.peek() != '#' {
		return nil, p.errAt(p.pos, "unexpected %s after the action (a comment starts with #)", p.describe())
	}
	rule.Text = strings.TrimSpace(p.line[start:end])
	return rule, nil
}

// parseCondition parses [!]name(args).
func (p *lineParser) parseCondition() (ScenarioCondition, *ScenarioError) {
	var c ScenarioCondition
	if p.peek() == '!' {
		c.Negate = true
		p.pos++
		p.skipBlanks()
	}
	nameAt := p.pos
	c.Name = p.word()
	if c.Name == "" {
		return c, p.errAt(p.pos, "expected a condition, found %s", p.describe())
	}
	spec, ok := scenarioConditions[c.Name]
	if !ok {
		if hint := sympaConditionHints[c.Name]; hint != "" {
			return c, p.errAt(nameAt, "unknown condition %q (%s)", c.Name, hint)
		}
		return c, p.errAt(nameAt, "unknown condition %q", c.Name)
	}
	p.skipBlanks()
	if p.peek() != '(' {
		return c, p.errAt(p.pos, "expected \"(\" after %s, found %s", c.Name, p.describe())
	}
	p.pos++
	argAt := []int{}
	p.skipBlanks()
	if p.peek() == ')' {
		p.pos++
	} else {
		for {
			p.skipBlanks()
			argAt = append(argAt, p.pos)
			a, err := p.parseArg()
			if err != nil {
				return c, err
			}
			c.Args = append(c.Args, a)
			if p.peek() == '[' && a.Kind == ScenarioVariable {
				return c, p.errAt(p.pos, "indexed variables such as [header->Name][-1] are not supported")
			}
			p.skipBlanks()
			if p.peek() == ',' {
				p.pos++
				continue
			}
			if p.peek() == ')' {
				p.pos++
				break
			}
			if p.atEnd() {
				return c, p.errAt(p.pos, "missing \")\" to close %s(", c.Name)
			}

			return c, p.errAt(p.pos, "expected \",\" or \")\" in %s(...), found %s", c.Name, p.describe())
		}
	}
	if len(c.Args) != len(spec.args) {
		want := "no arguments"
		if len(spec.args) > 0 {
			want = fmt.Sprintf("%d argument(s) (%s)", len(spec.args), strings.Join(spec.args, ", "))
		}
		return c, p.errAt(nameAt, "%s takes %s, got %d", c.Name, want, len(c.Args))
	}
	for i, a := range c.Args {
		wantRegexp := c.Name == "match" && i == 1
		if a.Kind == ScenarioRegexp && !wantRegexp {
			return c, p.errAt(argAt[i], "a /regex/ is only allowed as the second argument of match")
		}
		if wantRegexp && a.Kind != ScenarioRegexp {
			return c, p.errAt(argAt[i], "match needs a /regex/ as its second argument")
		}
		if wantRegexp {
			if a.Value == "" {
				return c, p.errAt(argAt[i], "empty regex matches everything; use true()")
			}
			re, err := compileScenarioRegexp(a.Value)
			if err != nil {
				return c, p.errAt(argAt[i], "bad regex: %v", err)
			}
			c.re = re
		}
	}
	return c, nil
}

// compileScenarioRegexp compiles a match() regex with Sympa's semantics: case
// insensitive, unanchored (Perl's /re/i).
func compileScenarioRegexp(src string) (*regexp.Regexp, error) {
	return regexp.Compile("(?i)" + src)
}

// scenarioVariables lists the plain variables; [header->Name] is handled apart.
var scenarioVariables = map[string]bool{
	"sender":    true,
	"listname":  true,
	"signer":    true,
	"msg->size": true,
}

// parseArg parses one argument: [variable], 'quoted', "quoted", /regex/ or a
// bare word.
func (p *lineParser) parseArg() (ScenarioArg, *ScenarioError) {
	at := p.pos
	switch c := p.peek(); c {
	case '[':
		end := strings.IndexByte(p.line[p.pos:], ']')
		if end < 0 {
			return ScenarioArg{}, p.errAt(at, "missing \"]\" to close the variable")
		}
		name := p.line[p.pos+1 : p.pos+end]
		p.pos += end + 1
		if scenarioVariables[name] {
			return ScenarioArg{Kind: ScenarioVariable, Value: name}, nil
		}
		if field, ok := strings.CutPrefix(name, "header->"); ok {
			if !validHeaderName(field) {
				return ScenarioArg{}, p.errAt(at, "bad header name %q in [header->Name]", field)
			}
			return ScenarioArg{Kind: ScenarioVariable, Value: name}, nil
		}
		return ScenarioArg{}, p.errAt(at, "unknown variable [%s] (known: [sender], [listname], [signer], [msg->size], [header->Name])", name)
	case '\'', '"':
		end := strings.IndexByte(p.line[p.pos+1:], c)
		if end < 0 {
			return ScenarioArg{}, p.errAt(at, "unterminated quoted string")
		}
		v := p.line[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		return ScenarioArg{Kind: ScenarioLiteral, Value: v}, nil
	case '/':
		i := p.pos + 1
		for i < len(p.line) && p.line[i] != '/' {
			if p.line[i] == '\\' && i+1 < len(p.line) {
				i++
			}
			i++
		}
		if i >= len(p.line) {
			return ScenarioArg{}, p.errAt(at, "unterminated /regex/")
		}
		v := p.line[p.pos+1 : i]
		p.pos = i + 1
		return ScenarioArg{Kind: ScenarioRegexp, Value: v}, nil
	}
	for p.pos < len(p.line) && !strings.ContainsRune(" \t,()[]'\"/#", rune(p.line[p.pos])) {
		p.pos++
	}
	if p.pos == at {
		return ScenarioArg{}, p.errAt(at, "expected an argument, found %s", p.describe())
	}
	return ScenarioArg{Kind: ScenarioLiteral, Value: p.line[at:p.pos]}, nil
}

// validHeaderName accepts RFC 5322 field names: printable ASCII except colon.
func validHeaderName(s string) bool {
	if s == "" || len(s) > 76 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 127 || s[i] == ':' {
			return false
		}
	}
	return true
}

// parseMethods parses the comma list of authentication methods.
func (p *lineParser) parseMethods() ([]string, *ScenarioError) {
	p.skipBlanks()
	var methods []string
	for {
		at := p.pos
		m := p.word()
		if m == "" {
			if len(methods) == 0 {
				return nil, p.errAt(at, "expected authentication methods (smtp, md5, pgp, smime) before \"->\", found %s", p.describe())
			}
			return nil, p.errAt(at, "expected a method after \",\", found %s", p.describe())
		}
		switch m {
		case MethodSMTP, MethodMD5, MethodPGP, MethodSMIME:
		case "dkim":
			return nil, p.errAt(at, "unknown method %q (Sympa's dkim is not a method here; known: smtp, md5, pgp, smime)", m)
		default:
			return nil, p.errAt(at, "unknown method %q (known: smtp, md5, pgp, smime)", m)
		}
		methods = append(methods, m)
		p.skipBlanks()
		if p.peek() != ',' {
			return methods, nil
		}
		p.pos++
		p.skipBlanks()
	}
}

// parseAction parses the action with its optional (reason=...) and ,quiet.
func (p *lineParser) parseAction(rule *ScenarioRule) *ScenarioError {
	p.skipBlanks()
	at := p.pos
	w := p.word()
	if w == "" {
		return p.errAt(at, "expected an action after \"->\", found %s", p.describe())
	}
	a, ok := scenarioActions[w]
	if !ok {
		return p.errAt(at, "unknown action %q (known: do_it, reject, request_auth, editorkey, editor, owner, discard)", w)
	}
	rule.Action = a
	p.skipBlanks()
	if p.peek() == '(' {
		if a != ScenarioReject {
			return p.errAt(p.pos, "only reject takes parameters")
		}
		p.pos++
		reason, err := p.parseReason()
		if err != nil {
			return err
		}
		rule.Reason = reason
		p.skipBlanks()
	}
	if p.peek() == ',' {
		p.pos++
		p.skipBlanks()
		modAt := p.pos
		mod := p.word()
		if mod != "quiet" {
			if mod == "" {
				return p.errAt(modAt, "expected quiet after \",\", found %s", p.describe())
			}
			return p.errAt(modAt, "unknown action modifier %q (only quiet)", mod)
		}
		if !quietAllowed(a) {
			return p.errAt(modAt, "%s does not take quiet", a)
		}
		rule.Quiet = true
	}
	return nil
}

// parseReason parses `reason='key')` after reject(.
func (p *lineParser) parseReason() (string, *ScenarioError) {
	p.skipBlanks()
	at := p.pos
	key := p.word()
	if key != "reason" {
		if key == "" {
			return "", p.errAt(at, "expected reason='...' in reject(...), found %s", p.describe())
		}
		return "", p.errAt(at, "unknown reject parameter %q (only reason='...')", key)
	}
	p.skipBlanks()
	if p.peek() != '=' {
		return "", p.errAt(p.pos, "expected \"=\" after reason, found %s", p.describe())
	}
	p.pos++
	p.skipBlanks()
	valAt := p.pos
	var reason string
	if q := p.peek(); q == '\'' || q == '"' {
		end := strings.IndexByte(p.line[p.pos+1:], q)
		if end < 0 {
			return "", p.errAt(valAt, "unterminated quoted reason")
		}
		reason = p.line[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
	} else {
		reason = p.word()
	}
	if reason == "" {
		return "", p.errAt(valAt, "empty reason")
	}
	if len(reason) > maxReasonLen {
		return "", p.errAt(valAt, "reason longer than %d bytes", maxReasonLen)
	}
	if !utf8.ValidString(reason) {
		return "", p.errAt(valAt, "reason is not valid UTF-8")
	}
	p.skipBlanks()
	if p.peek() != ')' {
		return "", p.errAt(p.pos, "expected \")\" to close reject(, found %s", p.describe())
	}
	p.pos++
	return reason, nil
}
