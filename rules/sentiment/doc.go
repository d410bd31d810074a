// Package sentiment holds Parley's sentiment classifiers: VADER (a rule- and
// lexicon-based model, via github.com/jonreiter/govader with fixes for social
// text), brand lexicon overrides that apply on top of any classifier, and
// the constructor the rest of Parley calls, New.
//
// Every classifier here implements parley.Classifier: Classify never fails
// and is safe for concurrent use.
package sentiment
