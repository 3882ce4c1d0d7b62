package commands

import (
	"strings"
	"time"

	"cloister/internal/site"
	"cloister/lists"
	"cloister/rules"
	"cloister/service"
)

// Command is one email command. Each lives in its own file.
type Command interface {
	// Name is the command word, as written in mail.
	Name() string
	// Aliases are other words for the same command.
	Aliases() []string
	// Args describes the arguments, e.g. "[ADDRESS] [NAME]".
	Args() string
	// Help is the one line shown by the help command.
	Help() string
	// Operation is the scenario operation that authorizes the command
	// (subscribe, unsubscribe, review, get, key, admin, moderate), or "" for
	// commands anyone may send.
	Operation() string
	// Run carries out the command with its arguments.
	Run(c *Context, args []string) Result
}

// All lists every command, in the order help shows them.
var All = []Command{
	Help{},
	Info{},
	Which{},
	Subscribe{},
	Unsubscribe{},
	Confirm{},
	Set{},
	Who{},
	Index{},
	Get{},
	Key{},
	Vouch{},
	Add{},
	Remove{},
	Approve{},
	RejectCmd{},
	DiscardCmd{},
	Members{},
	Keys{},
	Pubkey{},
	Sign{},
	Log{},
	Version{},
	End{},
}

// Lookup returns the command named or aliased word (case-insensitive).
func Lookup(word string) (Command, bool) {
	w := strings.ToLower(word)
	for _, c := range All {
		if c.Name() == w {
			return c, true
		}
		for _, a := range c.Aliases() {
			if a == w {
				return c, true
			}
		}
	}
	return nil, false
}

// Status is the outcome of one command.
type Status string

// Statuses shown in the reply.
const (
	Done    Status = "done"
	Pending Status = "pending" // waits for a confirmation or an owner
	Refused Status = "refused" // not allowed, or bad arguments
	Failed  Status = "failed"  // an error on the server's side
	Unknown Status = "unknown" // not a command
	Skipped Status = "skipped" // not carried out (e.g. after a refusal of the whole mail)
)

// Result is what one command reports in the reply.
type Result struct {
	Status Status
	// Text explains the outcome; it may hold several lines.
	Text string
	// Err is the server-side error of a Failed result, for the log only
	// (never shown to the sender).
	Err error

	// format and args are what Text was made from, so that the reply can
	// show it in the list's language (translate).
	format string
	args   []any
}

func done(format string, a ...any) Result {
	return Result{Status: Done, Text: sprintf(format, a...), format: format, args: a}
}
func pending(format string, a ...any) Result {
	return Result{Status: Pending, Text: sprintf(format, a...), format: format, args: a}
}
func refused(format string, a ...any) Result {
	return Result{Status: Refused, Text: sprintf(format, a...), format: format, args: a}
}

// failedText is what a Failed result tells the sender.
const failedText = "the server could not do it now; try again later or write to the list owners"

func failed(err error) Result {
	return Result{Status: Failed, Text: failedText, Err: err, format: failedText}
}

// Outgoing is a message to send: the reply, a confirmation request, a
// request to the owners, a welcome.
type Outgoing struct {
	To   string
	Kind string // reply, notice, welcome
	Data []byte
	// List is the list the message is from, set on the notices written for
	// the server's own commands (KeyAnnouncements, KeyRequestDecision).
	List string
	// Sealed tells that Data is encrypted to To's key on file; Confidential,
	// that it holds content of an encrypted mail (the results of an
	// encrypted command mail, an archived encrypted post). The outgoing
	// runner records both and sends a confidential message only encrypted.
	Sealed, Confidential bool
}

// Context is what a command runs with: the site, the list, who asks and how
// the request was authenticated.
type Context struct {
	Site *site.Site
	List *lists.List
	// Sender is the address the request comes from (the From address).
	Sender string
	// Method is how the sender was authenticated for this line: smtp, md5,
	// pgp or smime (always smtp for a Subject command).
	Method string
	// Encrypted and Signed describe the command mail.
	Encrypted, Signed bool
	// Signer is the address bound to a good signature, if any.
	Signer string
	// SignerFpr is the fingerprint of the signing key or certificate.
	SignerFpr string
	// Confirmed is set when the request was confirmed by a token sent to
	// the address it concerns; Approved when an owner approved it.
	Confirmed, Approved bool
	// Body is the command mail as opened by the incoming runner.
	Body []byte
	// Rest is the text after the command line, for a command that takes it
	// (Line.Rest).
	Rest []string
	// Attachments are the OpenPGP key attachments of the mail.
	Attachments [][]byte
	// Certificates are the DER certificates attached to the mail.
	Certificates [][]byte
	// Autocrypt is the key the mail's Autocrypt header offers for the
	// sender, armored, or nil; key set takes it when nothing is attached.
	Autocrypt []byte
	// MailMethod and MailFrom are what the command mail itself proves, as
	// the incoming runner verified it, whatever line or token is being run:
	// its method (pgp, smime or smtp; smtp for a Subject line) and its From
	// address. Tokens answering a challenge are checked against them.
	MailMethod, MailFrom string
	Now                  time.Time
	// Scenarios is the site's scenario set.
	Scenarios *rules.ScenarioSet
	// Header returns the command mail's header fields ([header->Name]).
	Header func(name string) []string
	// KeyStore changes subscriber keys; nil on sites without one.
	KeyStore KeyStore
	// As is who the service layer sees acting, when not the sender as the
	// mail proved them (the operator deciding a key request on the
	// server, a workflow the service runs).
	As *service.Actor

	svc      *service.Service
	cat      *loadedCatalog // the list's message catalogue, shared by the lines of a mail (catalog)
	svcOwner *Context
	out      []pendingMail
	requests *int         // confirmation and approval requests sent for this mail (shared by its lines)
	attach   []attachment // attached to the reply (key get)
	// attachConfidential tells that an attachment holds content of an
	// encrypted post (archive get).
	attachConfidential bool
}

// pendingMail is a message queued by a command, signed (and encrypted when
// a key is on file) when the reply is.
type pendingMail struct {
	m    *message
	kind string
}

// send queues a message besides the reply.
func (c *Context) send(m *message, kind string) { c.out = append(c.out, pendingMail{m, kind}) }

// usage returns "name args".
func usage(c Command) string {
	if c.Args() == "" {
		return c.Name()
	}
	return c.Name() + " " + c.Args()
}
