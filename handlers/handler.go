package handlers

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"cloister/lists"
	"cloister/mailmsg"
	"cloister/queue"
)

// Context is what a handler sees: the list, the entry's metadata and the
// message. Handlers edit header fields in place; only handlers that must
// (footer, content-filter, strip-signature, anonymous, dmarc wrap_message,
// protected-headers) replace Msg.Body.
type Context struct {
	List     *lists.List      // list address and settings
	Domain   string           // the site's mail domain
	Meta     *queue.Meta      // entry metadata (Encryption, Verdict, Auth, Sender, ...)
	Msg      *mailmsg.Message // the message
	Resolver DMARCResolver    // DNS TXT lookups for the dmarc handler; nil turns DMARC lookups off
	Now      time.Time

	// Rand supplies the randomness of new Message-IDs and MIME boundaries;
	// nil means crypto/rand. Tests set a fixed reader.
	Rand io.Reader
	// DMARCTimeout bounds one DMARC policy lookup; 0 means DefaultDMARCTimeout.
	DMARCTimeout time.Duration
	// Ctx cancels DNS lookups when the runner stops; nil means
	// context.Background().
	Ctx context.Context
}

func (c *Context) settings() *lists.Settings {
	if c.List == nil {
		d := lists.DefaultSettings()
		return &d
	}
	return &c.List.Settings
}

func (c *Context) rand() io.Reader {
	if c.Rand != nil {
		return c.Rand
	}
	return rand.Reader
}

func (c *Context) ctx() context.Context {
	if c.Ctx != nil {
		return c.Ctx
	}
	return context.Background()
}

// listAddress returns the list's posting address, lower-cased.
func (c *Context) listAddress() string {
	if c.List == nil {
		return ""
	}
	return strings.ToLower(c.List.Address)
}

// listParts returns the list's local part and domain.
func (c *Context) listParts() (local, domain string) {
	a := c.listAddress()
	i := strings.LastIndexByte(a, '@')
	if i < 0 {
		return a, c.Domain
	}
	return a[:i], a[i+1:]
}

// arrivedEncrypted reports whether the post arrived encrypted.
func (c *Context) arrivedEncrypted() bool {
	return c.Meta.ArrivedEncrypted()
}

// SystemResolver returns the resolver the pipeline runner should put in
// Context.Resolver: the system's DNS resolver behind a DMARCCache with its
// default TTL (10 minutes) and size (1000 names). Keep one for the life of
// the runner so that the cache is shared between posts.
func SystemResolver() DMARCResolver {
	return &DMARCCache{Resolver: net.DefaultResolver}
}

// Handler is one step of a list's pipeline.
type Handler interface {
	// Name is the handler's name in a pipeline (lower case, with dashes).
	Name() string
	// Description is one line for owners and `cloister list show`.
	Description() string
	// Process edits ctx.Msg. A *refusal.RejectError refuses the post, an error
	// wrapping refusal.ErrDiscard drops it, any other error is temporary.
	Process(ctx *Context) error
}

// All lists every handler, in the default pipeline order.
var All = []Handler{
	Cleanse{},
	ProtectedHeaders{},
	Anonymous{},
	FromName{},
	ReplyTo{},
	StripSignature{},
	ContentFilter{},
	HeadersToMeta{},
	DMARC{},
	SubjectPrefix{},
	Footer{},
	RFC2369{},
}

// DefaultPipeline returns the handler names a list runs unless its pipeline
// is overridden. The order matters: cleanse first; protected-headers reads an
// encrypted post's real Subject before subject-prefix edits it; anonymous
// before reply-to and dmarc (an anonymous From needs no mitigation);
// from-name after anonymous and before reply-to and dmarc, which copy the
// From display name;
// strip-signature and content-filter before dmarc (whose wrap_message turns
// the post into an attachment they would not look into) and before footer
// (so the footer is neither stripped nor filtered); headers-to-meta after
// content-filter (which would not keep its part apart) and before dmarc
// (whose munge_from would change the From it shows); rfc2369 last, so that its
// List-* fields and X-Loop are the ones that leave.
func DefaultPipeline() []string {
	names := make([]string, len(All))
	for i, h := range All {
		names[i] = h.Name()
	}
	return names
}

// Lookup returns the handler with the name.
func Lookup(name string) (Handler, bool) {
	for _, h := range All {
		if h.Name() == name {
			return h, true
		}
	}
	return nil, false
}

// Run runs the named handlers in order and returns the names of those that
// ran. Every name is checked before any handler runs: an unknown name is an
// error wrapping ErrUnknownHandler. The first handler error stops the run and
// is returned wrapped with the handler's name (errors.As still finds a
// *refusal.RejectError, errors.Is refusal.ErrDiscard).
func Run(names []string, ctx *Context) (ran []string, err error) {
	hs := make([]Handler, 0, len(names))
	for _, n := range names {
		h, ok := Lookup(n)
		if !ok {
			return nil, fmt.Errorf("pipeline: %w %q", ErrUnknownHandler, n)
		}
		hs = append(hs, h)
	}
	if ctx == nil || ctx.Msg == nil {
		return nil, fmt.Errorf("pipeline: no message")
	}
	for _, h := range hs {
		if err := h.Process(ctx); err != nil {
			return ran, fmt.Errorf("handler %s: %w", h.Name(), err)
		}
		ran = append(ran, h.Name())
	}
	return ran, nil
}
