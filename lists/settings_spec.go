package lists

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// ErrUnknownSetting is returned by Set and Value for a name that is not a setting.
var ErrUnknownSetting = errors.New("unknown setting")

// ErrBadSetting is wrapped by every error about a setting's value.
var ErrBadSetting = errors.New("bad setting value")

// Field describes one setting for display: `cloister list show` and the
// generated documentation.
type Field struct {
	Name    string // contract name, e.g. pgp_post_encrypt
	Value   string // current value as Set accepts it
	Default string // value in DefaultSettings (subject_prefix: per list)
	Allowed string // what Set accepts, e.g. "no|yes|force" or "integer 1..1000"
	Doc     string // the field's doc comment
}

// Bounds on free-form settings.
const (
	maxPatterns      = 100
	maxPatternLen    = 512
	maxContentTypes  = 64
	maxSettingLength = 8192
)

var (
	scenarioNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	languageRE     = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$`)
	mediaTypeRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/([a-z0-9][a-z0-9!#$&^_.+-]{0,63}|\*)$`)
	headerNameRE   = regexp.MustCompile(`^[!-9;-~]{1,76}$`)
	extensionRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_+-]{0,15}$`)
)

// settingSpec is what the `setting` struct tag of one field says.
type settingSpec struct {
	name    string // json name
	index   int    // field index in Settings
	kind    string // enum, words, bool, int, scenario, text, multiline, reply_to, content_filter, regexps, header_regexps, language
	allowed []string
	min     int
	max     int
	arg     string // scenario operation
}

// specs parses the struct tags of Settings once; a malformed tag is a
// programming error caught by the package tests.
var specs = sync.OnceValue(func() []settingSpec {
	t := reflect.TypeFor[Settings]()
	out := make([]settingSpec, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		tag := f.Tag.Get("setting")
		kind, arg, _ := strings.Cut(tag, "=")
		sp := settingSpec{name: name, index: i, kind: kind, arg: arg}
		switch kind {
		case "enum", "words":
			sp.allowed = strings.Split(arg, "|")
		case "int":
			lo, hi, ok := strings.Cut(arg, "..")
			var err1, err2 error
			sp.min, err1 = strconv.Atoi(lo)
			sp.max, err2 = strconv.Atoi(hi)
			if !ok || err1 != nil || err2 != nil {
				panic(fmt.Sprintf("lists: setting %s: bad int range %q", name, arg))
			}
		case "text", "multiline":
			n, err := strconv.Atoi(arg)
			if err != nil {
				panic(fmt.Sprintf("lists: setting %s: bad length %q", name, arg))
			}
			sp.max = n
		case "bool", "scenario", "reply_to", "content_filter", "regexps", "header_regexps", "language":
		default:
			panic(fmt.Sprintf("lists: setting %s: unknown kind %q", name, kind))
		}
		out = append(out, sp)
	}
	return out
})

func specFor(name string) (settingSpec, error) {
	for _, sp := range specs() {
		if sp.name == name {
			return sp, nil
		}
	}
	return settingSpec{}, fmt.Errorf("%w %q", ErrUnknownSetting, name)
}

// allowedText says in words what a setting accepts.
func (sp settingSpec) allowedText() string {
	switch sp.kind {
	case "enum":
		return strings.Join(sp.allowed, "|")
	case "words":
		return "any of " + strings.Join(sp.allowed, " ") + ", separated by spaces or commas; empty for none"
	case "bool":
		return "yes|no"
	case "int":
		return fmt.Sprintf("integer %d..%d", sp.min, sp.max)
	case "scenario":
		return sp.arg + ".NAME (a scenario file)"
	case "text":
		return fmt.Sprintf("one line of text, at most %d bytes", sp.max)
	case "multiline":
		return fmt.Sprintf("text, at most %d bytes", sp.max)
	case "reply_to":
		return "none|list|sender|ADDRESS"
	case "content_filter":
		return "media types (type/subtype or type/*), file name extensions (.ext), either denied with a leading !, and html-to-text, separated by spaces or commas; empty allows all"
	case "regexps":
		return "regular expressions separated by spaces; empty for none"
	case "header_regexps":
		return "Header:regex pairs separated by spaces; empty for none"
	case "language":
		return "a language tag such as en or pt-BR"
	}
	return sp.kind
}

// normalize checks value for this setting and returns it in stored form.
func (sp settingSpec) normalize(value string) (string, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s (allowed: %s)", ErrBadSetting, sp.name, fmt.Sprintf(format, a...), sp.allowedText())
	}
	if len(value) > maxSettingLength {
		return "", bad("value longer than %d bytes", maxSettingLength)
	}
	if !utf8.ValidString(value) {
		return "", bad("value is not UTF-8")
	}
	switch sp.kind {
	case "enum":
		v := strings.ToLower(strings.TrimSpace(value))
		for _, a := range sp.allowed {
			if v == a {
				return v, nil
			}
		}
		return "", bad("%q", value)
	case "words":
		// Stored in the order of the allowed list, each once, so that the
		// shown form sets the same value.
		seen := map[string]bool{}
		for _, w := range strings.FieldsFunc(strings.ToLower(value), func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
			if !slices.Contains(sp.allowed, w) {
				return "", bad("%q", w)
			}
			seen[w] = true
		}
		var out []string
		for _, a := range sp.allowed {
			if seen[a] {
				out = append(out, a)
			}
		}
		return strings.Join(out, " "), nil
	case "bool":
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "yes", "true", "on", "1":
			return "yes", nil
		case "no", "false", "off", "0":
			return "no", nil
		}
		return "", bad("%q", value)
	case "int":
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return "", bad("%q is not an integer", value)
		}
		if n < sp.min || n > sp.max {
			return "", bad("%d out of range", n)
		}
		return strconv.Itoa(n), nil
	case "scenario":
		v := strings.TrimSpace(value)
		op, name, ok := strings.Cut(v, ".")
		if !ok || op != sp.arg || !scenarioNameRE.MatchString(name) {
			return "", bad("%q", value)
		}
		return v, nil
	case "text":
		if len(value) > sp.max {
			return "", bad("longer than %d bytes", sp.max)
		}
		for _, r := range value {
			if unicode.IsControl(r) {
				return "", bad("control character %q", r)
			}
		}
		return value, nil
	case "multiline":
		if len(value) > sp.max {
			return "", bad("longer than %d bytes", sp.max)
		}
		for _, r := range value {
			if unicode.IsControl(r) && r != '\n' && r != '\t' {
				return "", bad("control character %q", r)
			}
		}
		return value, nil
	case "reply_to":
		v := strings.TrimSpace(value)
		switch strings.ToLower(v) {
		case "none", "list", "sender":
			return strings.ToLower(v), nil
		}
		if _, err := CanonicalAddress(v); err != nil {
			return "", bad("%v", err)
		}
		return v, nil
	case "content_filter":
		toks := strings.FieldsFunc(strings.ToLower(value), func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
		if len(toks) > maxContentTypes {
			return "", bad("more than %d entries", maxContentTypes)
		}
		for _, tok := range toks {
			t := strings.TrimPrefix(tok, "!")
			switch {
			case tok == "html-to-text":
			case strings.HasPrefix(t, "."):
				if !extensionRE.MatchString(t[1:]) {
					return "", bad("%q is not a file name extension", tok)
				}
			case !mediaTypeRE.MatchString(t):
				return "", bad("%q is not a media type or a file name extension", tok)
			}
		}
		return strings.Join(toks, " "), nil
	case "regexps":
		pats := strings.Fields(value)
		if len(pats) > maxPatterns {
			return "", bad("more than %d patterns", maxPatterns)
		}
		for _, p := range pats {
			if err := checkPattern(p); err != nil {
				return "", bad("%v", err)
			}
		}
		return strings.Join(pats, " "), nil
	case "header_regexps":
		pairs := strings.Fields(value)
		if len(pairs) > maxPatterns {
			return "", bad("more than %d pairs", maxPatterns)
		}
		for _, pair := range pairs {
			h, p, ok := strings.Cut(pair, ":")
			if !ok || !headerNameRE.MatchString(h) || p == "" {
				return "", bad("%q is not Header:regex", pair)
			}
			if err := checkPattern(p); err != nil {
				return "", bad("%v", err)
			}
		}
		return strings.Join(pairs, " "), nil
	case "language":
		v := strings.TrimSpace(value)
		if !languageRE.MatchString(v) {
			return "", bad("%q", value)
		}
		return v, nil
	}
	return "", bad("unknown kind %s", sp.kind)
}

func checkPattern(p string) error {
	if len(p) > maxPatternLen {
		return fmt.Errorf("pattern longer than %d bytes", maxPatternLen)
	}
	if _, err := regexp.Compile(p); err != nil {
		return fmt.Errorf("pattern %q: %w", p, err)
	}
	return nil
}

// get formats the field's current value as Set accepts it.
func (sp settingSpec) get(s *Settings) string {
	v := reflect.ValueOf(s).Elem().Field(sp.index)
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return "yes"
		}
		return "no"
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	default:
		return v.String()
	}
}

// put stores an already normalized value.
func (sp settingSpec) put(s *Settings, value string) {
	v := reflect.ValueOf(s).Elem().Field(sp.index)
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(value == "yes")
	case reflect.Int:
		n, _ := strconv.Atoi(value) // normalized: cannot fail
		v.SetInt(int64(n))
	default:
		v.SetString(value)
	}
}

// Set changes the setting called name (its contract name, e.g.
// pgp_post_encrypt) to value, after checking it. Errors name the allowed
// values; on error the settings are unchanged.
func (s *Settings) Set(name, value string) error {
	sp, err := specFor(name)
	if err != nil {
		return err
	}
	v, err := sp.normalize(value)
	if err != nil {
		return err
	}
	sp.put(s, v)
	return nil
}

// Value returns the value of the setting called name, formatted as Set
// accepts it (booleans as yes or no).
func (s *Settings) Value(name string) (string, error) {
	sp, err := specFor(name)
	if err != nil {
		return "", err
	}
	return sp.get(s), nil
}

// Validate checks every setting and returns all problems at once.
func (s *Settings) Validate() error {
	var errs []error
	for _, sp := range specs() {
		if _, err := sp.normalize(sp.get(s)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Names returns every setting name in display order.
func Names() []string {
	out := make([]string, 0, len(specs()))
	for _, sp := range specs() {
		out = append(out, sp.name)
	}
	return out
}

// Fields describes every setting with its current value, default, allowed
// values and documentation, in display order.
func (s *Settings) Fields() []Field {
	def := DefaultSettings()
	out := make([]Field, 0, len(specs()))
	for _, sp := range specs() {
		f := Field{
			Name:    sp.name,
			Value:   sp.get(s),
			Default: sp.get(&def),
			Allowed: sp.allowedText(),
			Doc:     settingDocs[sp.name],
		}
		if sp.name == "subject_prefix" {
			f.Default = "[NAME] "
		}
		out = append(out, f)
	}
	return out
}
