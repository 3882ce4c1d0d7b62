package mta

import (
	"fmt"
	"sort"
	"strings"

	"cloister/listaddr"
)

// DefaultDeliver is where `make install` puts deliver.
const DefaultDeliver = "/usr/lib/cloister/deliver"

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

// Exim returns a router and a transport for Exim 4 that pipe mail for the
// list domain's known lists into deliver.
func Exim(domain string, deliver, config string, indexPath string) string {
	return fmt.Sprintf(`# Cloister for Exim 4. Put the router before the other routers of the
# "routers" section and the transport in the "transports" section.

# --- router ---
cloister_lists:
  driver = accept
  domains = %s
  local_part_suffix = -request : -owner : -bounces : -bounces+* : -confirm : -confirm+* : -join : -leave : -sendkey
  local_part_suffix_optional
  condition = ${lookup{${local_part}@${domain}}lsearch{%s}{yes}{no}}
  transport = cloister_pipe

# --- transport ---
cloister_pipe:
  driver = pipe
  command = %s%s ${local_part}${local_part_suffix}@${domain}
  user = cloister
  return_fail_output = true
  temp_errors = 75
`, domain, indexPath, deliver, configFlag(config))
}

func configFlag(config string) string {
	if config == "" {
		return ""
	}
	return " --config " + config
}
