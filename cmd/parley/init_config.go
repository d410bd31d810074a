package main

import (
	"encoding/json"
	"strings"
)

// yamlString quotes s for YAML (a JSON string is a YAML double-quoted one).
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func yamlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = yamlString(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// config is the starter file parley init writes.
func (a initAnswers) config() string {
	var b strings.Builder
	w := func(s ...string) {
		for _, x := range s {
			b.WriteString(x)
		}
	}
	w("# Parley config written by 'parley init'. config.example.yaml documents every\n",
		"# key; docs/configuration.md the settings the environment may give.\n",
		"# Check it (and the tokens) with: parley check --config parley.yaml --connect\n\n",
		"brand:\n  name: ", yamlString(a.brand), "\n")
	if a.timezone != "" && a.timezone != "UTC" {
		w("  timezone: ", yamlString(a.timezone), "\n")
	}
	w("\n# The database is DATA/parley.db; PARLEY_DATA or --data override it.\n",
		"data: ./parley-data\n\nconnectors:\n")
	if a.mastodon == "" && !a.discord {
		w("  # None yet: add mastodon: or discord: (see config.example.yaml).\n  mastodon: []\n")
	}
	if a.mastodon != "" {
		w("  mastodon:\n    - server: ", yamlString(a.mastodon), "\n",
			"      token_env: PARLEY_MASTODON_TOKEN   # parley mastodon login prints it\n",
			"      keywords: ", yamlList(a.keywords), "\n",
			"      poll_interval: 1m\n")
	}
	if a.discord {
		w("  discord:\n    token_env: PARLEY_DISCORD_TOKEN\n",
			"    # Until channels are set the bot hears only messages that mention it.\n",
			"    # The channel ids to watch (right-click a channel, Copy Channel ID):\n",
			"    # channels: [\"123456789012345679\"]\n",
			"    # keywords: ", yamlList(a.keywords), "\n")
	}
	w(starterRules)
	return b.String()
}

// starterRules are general-purpose: they fit any brand. The first match
// that stops wins; a draft waits for a person's approval.
const starterRules = `
rules:
  # Someone asks us to stop: never answer, a person sees it.
  - name: opt-out
    description: Requests to be left alone are never answered.
    when: >
      contains_any(text, ["unsubscribe", "stop messaging", "stop replying",
        "leave me alone", "opt out", "don't contact me", "do not contact me"])
    tags: [opt-out]
    ignore: true
    stop: true

  # A problem with an order: the most urgent kind of complaint.
  - name: order-problem
    description: Orders that are late, lost, wrong or damaged.
    when: >
      contains_any(text, ["order", "delivery", "package", "parcel", "refund", "return"])
      && (sentiment.label == "negative" || contains_any(text, ["never arrived",
        "not arrived", "hasn't arrived", "wrong", "damaged", "broken", "missing", "late"]))
    tags: [order, complaint]
    priority: 7
    reply: >
      Hi {{first .Person}}, I'm sorry your order isn't right. Could you send us a
      direct message with your order number? Someone from our team will sort it
      out personally.
    stop: true

  # Any other complaint.
  - name: complaint
    when: sentiment.label == "negative" && sentiment.confidence >= 0.6
    tags: [complaint]
    priority: 5
    reply: >
      {{- if .History.FirstTime -}}
      Hi {{first .Person}}, I'm really sorry to hear that.
      {{- else -}}
      {{first .Person}}, I'm sorry this still isn't right.
      {{- end }} Could you tell us a bit more in a direct message? Someone from
      our team will follow up personally.
    stop: true

  # A question: acknowledge it; a person edits in the answer.
  - name: question
    when: is_question(text)
    tags: [question]
    priority: 3
    reply: >
      Hi {{first .Person}}, thanks for asking! Let us check and get back to you
      shortly.
    stop: true

  # Praise: thank them.
  - name: praise
    when: sentiment.label == "positive" && sentiment.confidence >= 0.6
    tags: [praise]
    priority: 1
    reply: >
      {{- if .History.FirstTime -}}
      Thank you so much, {{first .Person}}! That made our day.
      {{- else -}}
      Thanks again, {{first .Person}}, it means a lot to the whole {{.Brand}} team.
      {{- end }}
`
