package rules

// ReasonFormats lists the fmt formats of the reasons the rules give with
// arguments (a count, an address, a header name). A rule's Result carries
// the rendered English text, which is what is stored and logged; a notice
// matches that text against these formats to render the translated format
// with the same arguments. TestReasonFormatsListEveryHit keeps the list in
// step with the rules.
var ReasonFormats = []string{
	"the subject looks like the email command %q",
	"the body looks like the email command %q",
	"the address %s is banned from the list",
	"the list accepts only posts encrypted to its %s key",
	"the post is encrypted with %s; the list accepts only posts encrypted to its %s key",
	"the post has %d recipients in To and Cc, more than %d",
	"the post is %d KiB, more than the list's limit of %d KiB",
	"the %s field matches a suspicious pattern",
	"the site's virus scanner found %s in the post",
	"the post is %s, more than the virus scanner's limit of %s, so it was not scanned",
	"the post is %s, more than the virus scanner takes, so it was not scanned",
}
