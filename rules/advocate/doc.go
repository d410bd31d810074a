// Package advocate finds the brand's fans in the conversation and invites
// them, with consent: it scores people from their history, moves their
// advocate states, chooses prompts (invitations) with rules, and spots
// opt-outs and prompt outcomes in new posts. It computes; the store keeps
// and enforces (consent is checked in the transaction that queues a
// prompt, see parley.AdvocateStore.QueuePrompt), and bot.Advocates runs it
// on a schedule and on every stored batch.
//
// # Score
//
// ScoreConfig documents the formula; every term's weight and the half-lives
// are in the config, and Engine.Explain returns each term with how it was
// made (`parley advocates explain PERSON`). Engagement counts replies other
// people posted to the person's posts: the platforms' boosts, favourites
// and reactions are not stored, so they do not count.
//
// # States
//
//	""        → candidate  score ≥ states.candidate
//	candidate → advocate   score ≥ states.advocate, min_positive positive posts
//	                       on min_days days; automatically or after a
//	                       manager's confirmation (states.confirm)
//	advocate  → lapsed     no positive post for states.lapse_after
//	lapsed    → advocate   qualifies again
//
// Candidates and advocates must also have more positive than negative
// posts in the window (an angry account with a large audience is no
// candidate).
//
// # Prompt rules
//
// A prompt rule's `when` is an expr condition (as in the rules package)
// over these names:
//
//	brand                       string
//	person.handle, .name, .platform, .timezone  string
//	person.followers            int
//	person.mentions, .positive, .negative, .neutral  int  (all time)
//	person.state                string  "", candidate, advocate, lapsed (after this scoring)
//	person.advocate             bool    person.state == "advocate"
//	person.score                float
//	person.confirmed            bool    a manager confirmed them
//	person.opted_out, .nobot    bool    (such people are never prompted)
//	person.recent_mentions, .recent_positive, .recent_negative  int  (score window)
//	person.positive_days        int     days with a positive post in the window
//	person.days_since_positive  int     -1 when none in the window
//	person.days_since_negative  int     -1 when none in the window
//	person.days_known           int     days since their first post
//	person.replies_received     int     replies others made to them in the window
//	person.tags, .channels, .langs  []string  of their posts in the window
//	person.last_text            string  their latest post
//
//	prompts.count, .sent        int     prompts made; sent
//	prompts.asked               []string  asks already made (never repeated)
//	prompts.converted, .declined, .expired  []string  asks by outcome
//	prompts.last_outcome        string  "", waiting, watching, converted, declined,
//	                                    expired, withdrawn, rejected, failed
//	prompts.last_ask, .last_template  string
//	prompts.days_since_last     int     -1 when never prompted
//
// and contains_any(text, ["a", "b"]) (whole words, ignoring case). A rule
// whose template's ask the person was given before is skipped, so the next
// rule can offer something else; a declined prompt is visible to the next
// rules (prompts.last_outcome == "declined") and to the template
// ({{.LastPrompt.Outcome}}).
//
// # Opt-out
//
// A DM or a reply to one of our posts that is a command (stop, unsubscribe,
// no more, leave me alone, ...) or any post to the brand holding a phrase
// (leave me alone, stop messaging me, ...) opts its author out at once;
// opt_out.commands and opt_out.phrases add words per language. The opt-out
// is acknowledged once with an auto-approved reply (opt_out.acknowledgement):
// the one message Parley sends without a person approving it.
package advocate
