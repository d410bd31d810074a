// Package rules loads the rules of a Parley config and evaluates them on
// each mention: conditions are expr-lang/expr expressions over the mention,
// its sentiment and the author's history; actions tag the mention, raise
// its priority, ignore it, or draft a reply from a text/template.
//
// # Rules
//
// Rules live in the config under a top-level rules: key, a list evaluated
// in order:
//
//	rules:
//	  - name: thank-returning           # required, unique: letters, digits, _ . : -
//	    description: optional note for people
//	    when: sentiment.label == "positive" && person.returning   # required, boolean
//	    tags: [praise]                  # tags to add to the mention
//	    priority: 2                     # 0..10; the mention gets the highest of its rules
//	    reply: |                        # a text/template for a draft reply
//	      Thanks again {{first .Person}}!
//	    auto_approve: false             # the draft skips the approval queue
//	    ignore: false                   # store the mention but never draft for it
//	    stop: false                     # later rules are not evaluated when this one matches
//
// Load compiles every condition and template up front and reports every
// problem with its line (see Load). Evaluate returns the matching rules with
// an explanation (Match.Why), the tags, priority, ignore flag and at most one
// draft: the first matching rule whose reply renders non-blank text wins,
// and later rules still add tags and priority unless a rule said stop. No
// draft is made for an ignored mention or an author with #nobot.
//
// # Condition environment
//
// A condition sees these names (all snake_case):
//
//	text            string   the mention's text
//	text_lower      string   text in lower case
//	lang            string   language code when the platform gives one, else ""
//	platform        string   "mastodon", "discord", ...
//	channel         string   channel or server the mention came from, if any
//	url             string   link to the post
//	direct          bool     a private message to the bot
//	is_reply        bool     the post answers another post
//	length          int      length of text in characters (runes)
//
//	sentiment.label       string    "negative", "neutral" or "positive"
//	sentiment.score       float     -1 (most negative) .. 1 (most positive)
//	sentiment.confidence  float     0..1, the calibrated chance the label is right
//	sentiment.known       bool      false: a language the model does not read
//	                                (the label is a placeholder neutral)
//	sentiment.overrides   []string  slang or brand lexicon words that changed the verdict
//
//	person.handle          string   the author's handle
//	person.name            string   display name ("" if none)
//	person.followers       int
//	person.mentions        int      earlier mentions (0 for a first-timer)
//	person.first_time      bool     person.mentions == 0
//	person.returning       bool     person.mentions > 0
//	person.positive        int      earlier positive mentions
//	person.negative        int      earlier negative mentions
//	person.neutral         int      earlier neutral mentions
//	person.last_sentiment  string   label of their previous mention ("" if none)
//	person.replies_sent    int      replies we sent them
//	person.pending_drafts  int      drafts for them waiting for approval
//	person.opted_out       bool     they asked not to be prompted
//	person.advocate        bool     person.advocate_state == "advocate"
//	person.advocate_state  string   "", "candidate", "advocate" or "lapsed"
//	person.advocate_score  float
//	person.nobot           bool     their profile says #nobot
//
//	thread.mentions  int   earlier mentions in the thread
//	thread.replies   int   our replies in the thread (sent or approved, or a
//	                       person's pending edit; a rule's pending draft is
//	                       replaced by this mention's, so it does not count)
//
// Every thread is a conversation, with at most one pending reply: a
// mention whose rules draft a reply replaces the conversation's pending
// rule draft (kept as superseded, never sent); a person's edit is kept and
// marked "new message since your edit". The rules see the conversation as
// it stood before the mention:
//
//	conversation.new             bool     the mention starts it
//	conversation.state           string   needs_reply, waiting, closed or snoozed ("" when new)
//	conversation.messages        int      earlier customer messages in it
//	conversation.waited_minutes  float    how long the customer had waited for us by this post
//	                                      (from their oldest unanswered post; 0 when nothing waited)
//	conversation.answered        bool     we replied in it before
//	conversation.last_reply      string   the text of our last reply sent in it
//
//	tags  []string   tags the mention has so far, including those added by
//	                 earlier matching rules
//
// Functions besides expr's builtins (lower, upper, contains, startsWith,
// matches, len, any, all, in, ...):
//
//	contains_any(text, ["refund", "broken", "never arrived"])
//	    true if text holds any phrase as whole words, ignoring case
//	    ("sick" matches "so SICK!" but not "homesick"; see ContainsPhrase)
//	is_question(text)
//	    a question mark outside links, or a first word such as who, what,
//	    how, can, does, is (see IsQuestion)
//
// # Reply templates
//
// A reply is a Go text/template executed with TemplateData as its dot:
// .Person (parley.Person: .DisplayName, .Name, .Handle, .Mentions, ...),
// .History (parley.History: .FirstTime, .ThreadMentions, .Conversation
// (its .Messages, .WaitingSince, ...), .LastReply (what we last said in the
// conversation), ...), .Mention (the message the reply answers: its .Text,
// .Author, .CreatedAt, ...),
// .Brand and .Sentiment. Besides the text/template builtins it can call
// first (a first name: {{first .Person}}), default ({{.Person.Name | default
// "there"}}), lower, upper, trim, join, plural ({{plural 3 "post" "posts"}})
// and ordinal ({{ordinal 3}} is "3rd"). Leading and trailing blank space is
// trimmed; a reply that renders blank drafts nothing, so a template can
// decline with {{if}}.
//
// Templates are bounded so a mistake cannot hang Parley: a {{range}} visits
// at most MaxRangeIterations items and nests at most MaxRangeNesting deep,
// a template may not call templates ({{template}}, {{define}}, {{block}}),
// and the text may be at most MaxTemplateOutput bytes. Load runs each
// template on sample data, so `{{range 100000000000}}` is reported as
// FILE:LINE at load; a list too long in real data is an error of that rule
// (no draft), logged.
package rules
