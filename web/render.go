package web

import (
	"bytes"
	"errors"
	"html/template"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode the charsets mail uses
	"github.com/microcosm-cc/bluemonday"
)

// Bounds on rendering an archived message.
const (
	maxRenderDepth = 8
	maxRenderParts = 100
	maxPartBytes   = 4 << 20
)

// part is one leaf of a rendered message: text shown as text, HTML
// sanitised, anything else (and any part marked as an attachment) offered
// as a download only.
type part struct {
	Index    int // leaf number, for the download link
	Type     string
	Filename string
	Text     string        // text/plain, shown in <pre>
	HTML     template.HTML // text/html after the allow-list
	Size     int
	Download bool
	data     []byte
}

// htmlPolicy is the allow-list for HTML parts: text structure and links
// only. No images, styles, forms, frames, scripts or event attributes, so
// nothing is loaded from elsewhere and nothing runs (the page's CSP says
// the same a second time).
var htmlPolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "b", "i", "em", "strong", "u", "s", "sub", "sup", "small",
		"ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "code", "hr",
		"h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "span", "div")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// errTooManyParts stops a walk over a message with too many parts.
var errTooManyParts = errors.New("the message has too many parts to show")

// renderParts splits a message into the parts the page shows.
func renderParts(raw []byte) ([]part, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && e == nil {
		return nil, err
	}
	var out []part
	err = walkParts(e, 0, &out)
	return out, err
}

func walkParts(e *message.Entity, depth int, out *[]part) error {
	if depth > maxRenderDepth {
		return errTooManyParts
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil && p == nil {
				return err
			}
			if err := walkParts(p, depth+1, out); err != nil {
				return err
			}
		}
	}
	if len(*out) >= maxRenderParts {
		return errTooManyParts
	}
	mt, params, _ := e.Header.ContentType()
	if mt == "" {
		mt = "text/plain"
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	data, _ := io.ReadAll(io.LimitReader(e.Body, maxPartBytes))
	p := part{Index: len(*out), Type: mt, Filename: name, Size: len(data), data: data}
	switch {
	case strings.EqualFold(disp, "attachment") || name != "":
		p.Download = true
	case mt == "text/plain":
		p.Text = strings.ToValidUTF8(string(data), "\uFFFD")
	case mt == "text/html":
		p.HTML = template.HTML(htmlPolicy.SanitizeBytes(data))
	default:
		p.Download = true
	}
	*out = append(*out, p)
	return nil
}

// attachmentName is the file name a part is downloaded as.
func attachmentName(p part) string {
	if p.Filename != "" {
		return safeFilename(p.Filename)
	}
	ext := ".bin"
	if exts, _ := mime.ExtensionsByType(p.Type); len(exts) > 0 {
		ext = exts[0]
	}
	return "part-" + string(rune('0'+p.Index%10)) + ext
}
