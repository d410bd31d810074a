package parley

import _ "embed"

// ExampleConfig is config.example.yaml: the documented example
// configuration, which `parley demo` runs with.
//
//go:embed config.example.yaml
var ExampleConfig []byte
