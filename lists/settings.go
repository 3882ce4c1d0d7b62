package lists

// Settings are a list's settings. The JSON names are the setting names of
// DESIGN.md section 6 (part of the contract: `cloister list set LIST NAME
// VALUE` uses them). Each field's doc comment is its documentation for
// `cloister list show` and the generated docs (copied into settings_doc.go by
// `go test -run TestSettingsDoc -update`); its `setting` tag says which values
// Set accepts.
type Settings struct {
	// Posts encrypted to the list's OpenPGP key: no (not decrypted), yes
	// (decrypted and processed), force (posts not encrypted to the list key
	// are rejected). Default: no.
	PGPPostEncrypt string `json:"pgp_post_encrypt" setting:"enum=no|yes|force"`
	// Posts encrypted to the list's S/MIME certificate: no (not decrypted),
	// yes (decrypted and processed), force (posts not encrypted to the list
	// certificate are rejected). Default: no.
	SMIMEPostEncrypt string `json:"smime_post_encrypt" setting:"enum=no|yes|force"`
	// OpenPGP signatures on posts: no (not required), yes (unsigned or badly
	// signed posts are held), force (they are rejected). Default: no.
	PGPPostSign string `json:"pgp_post_sign" setting:"enum=no|yes|force"`
	// S/MIME signatures on posts: no (not required), yes (unsigned or badly
	// signed posts are held), force (they are rejected). Default: no.
	SMIMEPostSign string `json:"smime_post_sign" setting:"enum=no|yes|force"`
	// OpenPGP encryption of distributed copies: no (clear), yes (subscribers
	// with a key get it encrypted), force (subscribers without a key get only
	// a notice). A post that arrived encrypted is always distributed encrypted
	// only. Default: no.
	PGPDistribEncrypt string `json:"pgp_distrib_encrypt" setting:"enum=no|yes|force"`
	// S/MIME encryption of distributed copies: no (clear), yes (subscribers
	// with a certificate get it encrypted), force (subscribers without one get
	// only a notice). A post that arrived encrypted is always distributed
	// encrypted only. Default: no.
	SMIMEDistribEncrypt string `json:"smime_distrib_encrypt" setting:"enum=no|yes|force"`
	// Whether distributed copies are signed with the list's OpenPGP key.
	// Default: no.
	PGPDistribSign string `json:"pgp_distrib_sign" setting:"enum=no|yes"`
	// Whether distributed copies are signed with the list's S/MIME
	// certificate. Default: no.
	SMIMEDistribSign string `json:"smime_distrib_sign" setting:"enum=no|yes"`
	// Content cipher for S/MIME encryption: aes256-cbc (EnvelopedData, read by
	// every client) or aes256-gcm (AuthEnvelopedData, RFC 5083; not read by
	// Thunderbird's NSS). Default: aes256-cbc.
	SMIMECipher string `json:"smime_cipher" setting:"enum=aes256-cbc|aes256-gcm"`
	// Whether S/MIME mail to the list must be encrypted with authEnveloped-data
	// (AES-GCM, RFC 5083): with yes, enveloped-data (AES-CBC, 3DES: no
	// integrity protection) is refused before it is decrypted, with the same
	// answer as any other mail the list cannot read. With no, it is read, and
	// acted on only when a good signature made inside the encryption by the
	// From address covers it. Default: no.
	SMIMERequireAEAD bool `json:"smime_require_aead" setting:"bool"`
	// Whether resend orders fetch the OpenPGP key of an outside address that
	// has none on file: from the Web Key Directory of its domain and, when
	// the site's cloister.toml names a keyserver, from that keyserver; a key
	// found is added to the keyring and the copy encrypted to it. With yes
	// the pipeline runner makes HTTPS requests (bounded in time and size) to
	// the outsiders' domains; no keeps it off the network. Default: yes.
	ResendFetchKeys bool `json:"resend_fetch_keys" setting:"bool"`

	// Scenario deciding who may post to the list. Default: send.private.
	Send string `json:"send" setting:"scenario=send"`
	// Scenario deciding who may subscribe. Default: subscribe.confirm.
	Subscribe string `json:"subscribe" setting:"scenario=subscribe"`
	// Scenario deciding who may unsubscribe: with unsubscribe.confirm a
	// request signed with the member's bound key or certificate leaves at
	// once, any other gets a confirmation request sent to the member.
	// Default: unsubscribe.confirm.
	Unsubscribe string `json:"unsubscribe" setting:"scenario=unsubscribe"`
	// Scenario deciding who may see the list of members. Default:
	// review.owner.
	Review string `json:"review" setting:"scenario=review"`
	// Scenario deciding who may fetch archived posts. Default: get.private.
	Get string `json:"get" setting:"scenario=get"`
	// Scenario deciding who may set or change a subscriber key by mail.
	// Default: key.signed.
	Key string `json:"key" setting:"scenario=key"`
	// Who may bind a first OpenPGP key or S/MIME certificate to an address
	// (key set, subscribe with a key): proof (whoever answers the challenge
	// encrypted to the key, signed with it: the holder of the key who reads
	// the mailbox), owner (the same proof, then the bind waits for an owner's
	// signed key approve ID or cloister key approve), vouched (the holder's
	// proof waits for an owner, or a member's signed key sign ADDRESS
	// FINGERPRINT; a member's key sign ADDRESS with the key attached binds
	// it), or auto (owner when the list forces encrypted posts or encrypted
	// distribution, proof otherwise). A key is bound site-wide, so the
	// strictest mode (proof, then vouched, then owner) among the list asked
	// and the lists the address belongs to applies.
	// Default: auto.
	KeyEnrolment string `json:"key_enrolment" setting:"enum=auto|proof|owner|vouched"`
	// Scenario deciding who may give the owner commands by mail (add,
	// remove, members, set SETTING VALUE, key set ADDRESS). Default:
	// admin.signed.
	Admin string `json:"admin" setting:"scenario=admin"`
	// Scenario deciding who may give the moderator commands by mail
	// (approve, reject, discard). Default: moderate.signed.
	Moderate string `json:"moderate" setting:"scenario=moderate"`
	// How subscriptions complete: open (at once), confirm (the address must
	// answer a token), approve (an owner decides), confirm+approve (both).
	// Default: confirm.
	SubscribePolicy string `json:"subscribe_policy" setting:"enum=open|confirm|approve|confirm+approve"`
	// How unsubscriptions complete: open (at once), confirm (the address must
	// answer a token), approve (an owner decides), confirm+approve (both).
	// Default: open.
	UnsubscribePolicy string `json:"unsubscribe_policy" setting:"enum=open|confirm|approve|confirm+approve"`

	// Archive: none (posts are not kept), private (members only), public.
	// Default: private.
	Archive string `json:"archive" setting:"enum=none|private|public"`
	// Days archived posts are kept; 0 keeps them for ever. Default: 0.
	ArchiveKeepDays int `json:"archive_keep_days" setting:"int=0..36500"`
	// Who may see the roster (with the review scenario): owners or members.
	// Default: owners.
	Roster string `json:"roster" setting:"enum=owners|members"`
	// Whether the list is shown to non-members (which, info, the list index).
	// Default: yes.
	Advertised bool `json:"advertised" setting:"bool"`

	// Text put before the Subject of distributed posts, once (no stacking).
	// Default: "[NAME] " where NAME is the local part of the list address.
	SubjectPrefix string `json:"subject_prefix" setting:"text=64"`
	// Text put before the Subject (after subject_prefix) of posts that are
	// not validly signed (after Schleuder's subject_prefix_in), e.g.
	// "[unsigned]"; removed from the Subject of posts that are. Default:
	// empty.
	SubjectPrefixIn string `json:"subject_prefix_in" setting:"text=64"`
	// Text put before the Subject of copies the list resends to outsiders
	// (resend keywords; after Schleuder's subject_prefix_out). Default:
	// empty.
	SubjectPrefixOut string `json:"subject_prefix_out" setting:"text=64"`
	// Whether the author of a post, when a member who receives posts, gets
	// a copy of it too (after Schleuder's deliver_selfsent). Default: yes.
	DeliverSelfsent bool `json:"deliver_selfsent" setting:"bool"`
	// Whether every post that reaches the list, whatever becomes of it, is
	// also forwarded to the owners, as mail to LIST-owner is (encrypted to
	// each owner's key, and only so for a post that arrived encrypted),
	// after Schleuder's forward_all_incoming_to_admins. Default: no.
	ForwardAllIncomingToOwners bool `json:"forward_all_incoming_to_admins" setting:"bool"`
	// Email commands that only owners may give (after Schleuder's
	// keywords_admin_only), by name, separated by spaces: e.g. "who keys
	// pubkey". Default: empty.
	KeywordsAdminOnly string `json:"keywords_admin_only" setting:"words=help|info|which|subscribe|unsubscribe|confirm|set|who|index|get|key|vouch|keys|pubkey|sign|log|version|add|remove|approve|reject|discard|members|end"`
	// Email commands whose use is told to the owners (after Schleuder's
	// keywords_admin_notify), by name, separated by spaces. Default: empty.
	KeywordsAdminNotify string `json:"keywords_admin_notify" setting:"words=help|info|which|subscribe|unsubscribe|confirm|set|who|index|get|key|vouch|keys|pubkey|sign|log|version|add|remove|approve|reject|discard|members|end"`
	// Text appended to distributed posts; never added to signed or encrypted
	// posts. Default: empty.
	Footer string `json:"footer" setting:"multiline=4096"`
	// Reply-To of distributed posts: none (left as sent), list (the list
	// address), sender (the author), or an explicit address. Default: none.
	ReplyTo string `json:"reply_to" setting:"reply_to"`
	// Strip the sender's identity and leaky headers (Received, Message-ID,
	// User-Agent, ...) from distributed posts. Default: no.
	Anonymous bool `json:"anonymous" setting:"bool"`
	// Remove the author's signature from the post before the list signs it.
	// Default: no.
	StripOriginalSignature bool `json:"strip_original_signature" setting:"bool"`
	// Largest post accepted, in KiB (the site limit still applies first).
	// Default: 10240.
	MaxMessageSizeKB int `json:"max_message_size_kb" setting:"int=1..1048576"`
	// Largest number of To and Cc addresses a post may carry before it is
	// held; 0 disables the check. Default: 10.
	MaxRecipients int `json:"max_recipients" setting:"int=0..1000"`
	// Allowed content types, separated by spaces or commas: type/subtype or
	// type/*, plus html-to-text to turn HTML-only posts into text; .ext
	// entries accept only attachments with those file name extensions; a
	// leading ! denies a type (!application/x-msdownload) or an extension
	// (!.exe) whatever else is accepted; empty allows everything. Default:
	// empty.
	ContentFilter string `json:"content_filter" setting:"content_filter"`
	// What to do with posts from domains with a strict DMARC policy: none,
	// munge_from (From becomes the list, the author goes to Reply-To),
	// wrap_message (the post is attached to a list message). Default: none.
	DMARCMitigation string `json:"dmarc_mitigation" setting:"enum=none|munge_from|wrap_message"`
	// Recipients per SMTP transaction to the MTA. Default: 1.
	BatchSize int `json:"batch_size" setting:"int=1..1000"`
	// Never show subscribers each other's addresses or key IDs (hidden
	// recipients, per-recipient copies). Default: yes.
	HiddenRecipients bool `json:"hidden_recipients" setting:"bool"`

	// Days a held post waits for a moderator before it expires with a notice
	// to the sender. Default: 14.
	HeldExpireDays int `json:"held_expire_days" setting:"int=1..365"`
	// Hours a confirmation token stays valid. Default: 72.
	TokenExpireHours int `json:"token_expire_hours" setting:"int=1..720"`
	// Days before a list or subscriber OpenPGP key expires that owners are
	// warned; 0 disables the warning. Default: 30.
	KeyWarnDays int `json:"key_warn_days" setting:"int=0..365"`
	// Days before a list or subscriber certificate expires that owners are
	// warned; 0 disables the warning. Default: 30.
	CertWarnDays int `json:"cert_warn_days" setting:"int=0..365"`
	// What to do with a post whose signature was received before (a replay):
	// reject, hold or discard. Default: reject.
	DuplicateSignatureAction string `json:"duplicate_signature_action" setting:"enum=reject|hold|discard"`
	// Whether posts are scanned for viruses by the site's clamd (after
	// decryption, before moderation, distribution and the archive); it takes
	// effect only when the site's cloister.toml names clamd_socket. A post
	// the scanner cannot take (larger than clamd_max_scan_kb) is held for
	// the moderators. Default: yes.
	VirusScan bool `json:"virus_scan" setting:"bool"`
	// What to do with a post the virus scanner finds infected: reject (a
	// notice to the sender, naming the signature only for a post that
	// arrived in clear), hold (for the moderators) or discard. Default:
	// reject.
	VirusAction string `json:"virus_action" setting:"enum=reject|hold|discard"`
	// Pseudo-headers put in a first text part of each distributed post (so,
	// in encrypted copies, inside the encryption), after Schleuder's
	// headers_to_meta: any of from, to, cc, date (the post's fields), sig
	// (who signed it, and the verdict) and enc (whether it arrived
	// encrypted). The post itself follows unchanged, so its signature still
	// verifies. Anonymous lists never show from, nor the signer in sig.
	// Default: empty.
	HeadersToMeta string `json:"headers_to_meta" setting:"words=from|to|cc|date|sig|enc"`
	// Signed commands older than this many days are refused. Default: 7.
	SignedCommandMaxAgeDays int `json:"signed_command_max_age_days" setting:"int=1..365"`
	// Senders whose posts and requests are refused: regular expressions
	// matched against the whole lower-cased address, separated by spaces.
	// Default: empty.
	BannedAddresses string `json:"banned_addresses" setting:"regexps"`
	// Posts with a header matching one of these are held: Header:regex pairs
	// separated by spaces. Default: empty.
	SuspiciousHeaders string `json:"suspicious_headers" setting:"header_regexps"`
	// Language of the texts the list mails: notices, welcome, confirmation
	// requests, command replies and help (a BCP 47 tag such as en or pt-BR;
	// en, de and fr are shipped), falling back to English. Default: en.
	Language string `json:"language" setting:"language"`

	// Bounces with a header matching one of these are dropped without
	// counting (after Schleuder's bounces_drop_on_headers): Header:regex
	// pairs separated by spaces, e.g. "X-Spam-Flag:yes". Default: empty.
	BouncesDropOnHeaders string `json:"bounces_drop_on_headers" setting:"header_regexps"`
	// Bounce score at which a member's delivery is disabled and the owners
	// are told: each day with a permanent delivery failure adds one, and a
	// score whose last bounce is older than 7 days starts again from zero;
	// 0 never disables. Default: 5.
	BounceThreshold int `json:"bounce_threshold" setting:"int=0..1000"`
	// Form of the digests sent to members with delivery digest: mime (a
	// table of contents and the posts as attached messages, RFC 2046
	// multipart/digest) or plain (RFC 1153 text). Default: mime.
	DigestFormat string `json:"digest_format" setting:"enum=mime|plain"`
	// A digest is sent once the posts waiting for it reach this many KiB.
	// Default: 30.
	DigestSizeKB int `json:"digest_size_kb" setting:"int=1..10240"`
	// A digest is sent once its oldest post has waited this many hours, even
	// if it is small. Default: 24.
	DigestPeriodHours int `json:"digest_period_hours" setting:"int=1..8760"`

	// Whether the cover runner sends each subscriber with a key encrypted
	// and signed dummy posts at random times (a Poisson process at
	// cover_traffic_per_day), and pads the encrypted part of every
	// encrypted copy, real or dummy, to a size bucket, so that an observer
	// of the mail between the list, the MTA and the subscribers learns less
	// from when and how much the list sends. Dummies carry the header field
	// Cloister-Cover: 1 only inside the encryption (docs/owners.md, "Cover
	// traffic", has the mail-filter rules that drop them). Default: no.
	CoverTraffic bool `json:"cover_traffic" setting:"bool"`
	// Mean number of dummy posts per subscriber per day when cover_traffic
	// is on. Default: 2.
	CoverTrafficPerDay int `json:"cover_traffic_per_day" setting:"int=1..96"`
}

// DefaultSettings returns the settings of a new list. SubjectPrefix is left
// empty here: NewList sets it from the list's local part.
func DefaultSettings() Settings {
	return Settings{
		PGPPostEncrypt:           "no",
		SMIMEPostEncrypt:         "no",
		PGPPostSign:              "no",
		SMIMEPostSign:            "no",
		PGPDistribEncrypt:        "no",
		SMIMEDistribEncrypt:      "no",
		PGPDistribSign:           "no",
		SMIMEDistribSign:         "no",
		SMIMECipher:              "aes256-cbc",
		ResendFetchKeys:          true,
		Send:                     "send.private",
		Subscribe:                "subscribe.confirm",
		Unsubscribe:              "unsubscribe.confirm",
		Review:                   "review.owner",
		Get:                      "get.private",
		Key:                      "key.signed",
		KeyEnrolment:             "auto",
		Admin:                    "admin.signed",
		Moderate:                 "moderate.signed",
		SubscribePolicy:          "confirm",
		UnsubscribePolicy:        "open",
		Archive:                  "private",
		ArchiveKeepDays:          0,
		Roster:                   "owners",
		Advertised:               true,
		SubjectPrefix:            "",
		Footer:                   "",
		SubjectPrefixIn:          "",
		SubjectPrefixOut:         "",
		DeliverSelfsent:          true,
		ReplyTo:                  "none",
		Anonymous:                false,
		StripOriginalSignature:   false,
		MaxMessageSizeKB:         10240,
		MaxRecipients:            10,
		ContentFilter:            "",
		DMARCMitigation:          "none",
		BatchSize:                1,
		HiddenRecipients:         true,
		HeldExpireDays:           14,
		TokenExpireHours:         72,
		KeyWarnDays:              30,
		CertWarnDays:             30,
		DuplicateSignatureAction: "reject",
		VirusScan:                true,
		VirusAction:              "reject",
		SignedCommandMaxAgeDays:  7,
		BannedAddresses:          "",
		SuspiciousHeaders:        "",
		Language:                 "en",
		BounceThreshold:          5,
		DigestFormat:             "mime",
		DigestSizeKB:             30,
		DigestPeriodHours:        24,
		CoverTraffic:             false,
		CoverTrafficPerDay:       2,
	}
}

// Key enrolment modes (the key_enrolment setting, once auto is resolved),
// weakest first.
const (
	EnrolProof   = "proof"
	EnrolOwner   = "owner"
	EnrolVouched = "vouched"
)

// EnrolmentMode resolves the key_enrolment setting: auto (or unset) is owner
// when the list's posts or distributed copies are encrypted by force
// ({pgp,smime}_post_encrypt or {pgp,smime}_distrib_encrypt = force: every
// copy then goes encrypted, so a wrongly bound key reads them all), proof
// otherwise.
func (s *Settings) EnrolmentMode() string {
	switch s.KeyEnrolment {
	case EnrolProof, EnrolOwner, EnrolVouched:
		return s.KeyEnrolment
	}
	for _, v := range []string{s.PGPDistribEncrypt, s.SMIMEDistribEncrypt, s.PGPPostEncrypt, s.SMIMEPostEncrypt} {
		if v == "force" {
			return EnrolOwner
		}
	}
	return EnrolProof
}

// StricterEnrolment returns the stricter of two enrolment modes: proof (the
// holder alone), then vouched (a member may vouch), then owner (only an
// owner decides).
func StricterEnrolment(a, b string) string {
	rank := map[string]int{EnrolProof: 0, EnrolVouched: 1, EnrolOwner: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
