package mta

import (
	"fmt"
	"sort"
	"strings"

	"cloister/internal/listaddr"
)

// DefaultDeliver is where `make install` puts deliver ($(PREFIX)/lib/cloister
// with the Makefile's default PREFIX, /usr/local); TestDefaultDeliverIsInstalled
// keeps the two in step.
const DefaultDeliver = "/usr/local/lib/cloister/deliver"

// addresses returns every address of each list: the list itself and each subaddress.
func addresses(lists []string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l)
		for _, s := range listaddr.Suffixes {
			out = append(out, listaddr.Address(l, s.Sub))
		}
	}
	sort.Strings(out)
	return out
}

// PostfixAliases returns aliases(5) lines that pipe each list address into
// deliver through local(8). Postfix prepends an mbox From_ line there, which
// deliver strips.
func PostfixAliases(lists []string, deliver, config string) string {
	var b strings.Builder
	b.WriteString("# Cloister list aliases for Postfix local(8): append to /etc/aliases and run newaliases.\n")
	for _, a := range addresses(lists) {
		fmt.Fprintf(&b, "%s: \"|%s%s %s\"\n", listaddr.LocalPart(a), deliver, configFlag(config), a)
	}
	return b.String()
}

// PostfixTransport returns the preferred Postfix integration: a pipe(8)
// transport for the list domain, a recipient map so that unknown addresses are
// refused at RCPT time (no backscatter), and the master.cf service line.
func PostfixTransport(domain string, lists []string, deliver, config string) (transport, recipients, master, mainCF string) {
	transport = fmt.Sprintf("%s cloister:\n", domain)
	var r strings.Builder
	for _, a := range addresses(lists) {
		fmt.Fprintf(&r, "%s OK\n", a)
	}
	// Subaddresses with an extension (confirm+TOKEN, bounces+VERP) are matched
	// by Postfix without the extension when recipient_delimiter = +.
	recipients = r.String()
	master = fmt.Sprintf("cloister  unix  -       n       n       -       4       pipe\n  flags=Rq user=cloister argv=%s%s -f ${sender} ${original_recipient}\n", deliver, configFlag(config))
	mainCF = fmt.Sprintf(`relay_domains = %s
transport_maps = hash:/etc/postfix/cloister_transport
relay_recipient_maps = hash:/etc/postfix/cloister_recipients
cloister_destination_recipient_limit = 1
recipient_delimiter = +
`, domain)
	return transport, recipients, master, mainCF
}

// SocketmapTable returns the Postfix table that asks `cloister mta
// socketmap` listening on listen (host:port or a socket path) for map name.
func SocketmapTable(listen, name string) string {
	if strings.HasPrefix(listen, "/") {
		return "socketmap:unix:" + listen + ":" + name
	}
	return "socketmap:inet:" + listen + ":" + name
}

// PostfixSocketmap returns the Postfix integration that needs no step after
// a list create or delete: relay_domains, relay_recipient_maps and
// transport_maps ask `cloister mta socketmap` (on listen), which reads the
// lists Cloister has now; the master.cf pipe service is PostfixTransport's.
func PostfixSocketmap(listen, deliver, config string) (master, mainCF string) {
	_, _, master, _ = PostfixTransport("", nil, deliver, config)
	mainCF = fmt.Sprintf(`relay_domains = %s
transport_maps = %s
relay_recipient_maps = %s
cloister_destination_recipient_limit = 1
recipient_delimiter = +
`, SocketmapTable(listen, MapDomains), SocketmapTable(listen, MapTransport), SocketmapTable(listen, MapRecipients))
	return master, mainCF
}

// DefaultEximLists is where the Exim router looks up list addresses.
const DefaultEximLists = "/etc/exim4/cloister_lists"

// EximLists returns the file the Exim router looks list addresses up in:
// one list address a line (an lsearch file with keys only). Like Postfix's
// recipient map it is rewritten after creating or deleting a list, so Exim
// reads nothing of Cloister's state directory.
func EximLists(lists []string) string {
	sorted := append([]string{}, lists...)
	sort.Strings(sorted)
	var b strings.Builder
	for _, l := range sorted {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// Exim returns a router and a transport for Exim 4 that pipe mail for the
// lists named in listsFile (see EximLists), with their subaddress suffixes,
// into deliver. Unknown addresses fail the router, so an ACL with
// "verify = recipient" refuses them at RCPT time.
func Exim(domain string, deliver, config string, listsFile string) string {
	return fmt.Sprintf(`# --- router ---
# Put it before the other routers of the "begin routers" section.
cloister_lists:
  driver = accept
  domains = %s
  local_part_suffix = %s
  local_part_suffix_optional
  condition = ${lookup{${local_part}@${domain}}lsearch{%s}{yes}{no}}
  transport = cloister_pipe

# --- transport ---
# Put it in the "begin transports" section. deliver takes the list address
# from $RECIPIENT (the whole address, suffix included) and the sender from
# $SENDER: Exim 4.94 and later refuse tainted values such as $local_part in
# a pipe command, so the command names neither. The message goes in as it
# came (no mbox From_ line before it, no blank line after it: signatures
# cover the bytes). Exit 75 is a temporary error.
cloister_pipe:
  driver = pipe
  command = %s%s
  message_prefix =
  message_suffix =
  user = cloister
  return_fail_output = true
  temp_errors = 75
`, domain, eximSuffixes(), listsFile, deliver, configFlag(config))
}

// eximSuffixes is the local_part_suffix list of the Exim router: every
// subaddress suffix of listaddr.Suffixes, and SUFFIX+* for those that carry
// an extension.
func eximSuffixes() string {
	var parts []string
	for _, s := range listaddr.Suffixes {
		parts = append(parts, s.Suffix)
		if s.Extension {
			parts = append(parts, s.Suffix+"+*")
		}
	}
	return strings.Join(parts, " : ")
}

func configFlag(config string) string {
	if config == "" {
		return ""
	}
	return " --config " + config
}
