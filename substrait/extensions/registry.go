// Package extensions is the vocabulary shared by Arbalest's Substrait
// producer and consumer: the function extensions (the standard Substrait
// YAMLs plus Arbalest's own functions_arbalest.yaml), the choice of URN and
// signature-qualified (compound) name for a call, the mapping between Arrow
// and Substrait types, and the optimization hints Arbalest attaches to
// relations.
package extensions

import (
	"bytes"
	_ "embed" // functions_arbalest.yaml
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/substrait-io/substrait"
	sgext "github.com/substrait-io/substrait-go/v8/extensions"
)

// ArbalestURN is the URN of Arbalest's own function extension
// (functions_arbalest.yaml): date_trunc, regexp_match, split_part,
// current_date and pi.
const ArbalestURN = "extension:io.arbalest:functions_arbalest"

// StandardURNPrefix prefixes the URNs of the standard Substrait extensions.
const StandardURNPrefix = "extension:io.substrait:"

//go:embed functions_arbalest.yaml
var arbalestYAML []byte

// ArbalestYAML returns the text of functions_arbalest.yaml.
func ArbalestYAML() []byte { return bytes.Clone(arbalestYAML) }

// Kind says whether a function is scalar, aggregate or window.
type Kind int

const (
	Scalar Kind = iota
	Aggregate
	Window
)

func (k Kind) String() string {
	return [...]string{"scalar", "aggregate", "window"}[k]
}

// variant is what the three substrait-go variant types have in common.
type variant interface {
	Name() string
	CompoundName() string
	URN() string
	Variadic() *sgext.VariadicBehavior
}

type registry struct {
	coll *sgext.Collection
	// byName lists, per kind and simple name, every variant (all URNs).
	byName [3]map[string][]variant
	// fileURN maps an extension file base name (functions_arithmetic) to its URN.
	fileURN map[string]string
	urns    map[string]bool
}

var loadRegistry = sync.OnceValues(func() (*registry, error) {
	r := &registry{coll: &sgext.Collection{}, fileURN: map[string]string{}, urns: map[string]bool{}}
	fsys := substrait.GetSubstraitExtensionsFS()
	ents, err := fsys.ReadDir("extensions")
	if err != nil {
		return nil, fmt.Errorf("reading the standard Substrait extensions: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".yaml") || name == "unknown.yaml" {
			continue
		}
		data, err := fsys.ReadFile("extensions/" + name)
		if err != nil {
			return nil, err
		}
		if err := r.coll.Load(sgext.SubstraitDefaultURIPrefix+name, bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("loading %s: %w", name, err)
		}
		base := strings.TrimSuffix(name, ".yaml")
		r.fileURN[base] = StandardURNPrefix + base
	}
	if err := r.coll.Load("functions_arbalest.yaml", bytes.NewReader(arbalestYAML)); err != nil {
		return nil, fmt.Errorf("loading functions_arbalest.yaml: %w", err)
	}
	r.fileURN["functions_arbalest"] = ArbalestURN
	for _, u := range r.fileURN {
		r.urns[u] = true
	}
	for k := range r.byName {
		r.byName[k] = map[string][]variant{}
	}
	for _, v := range r.coll.GetAllScalarFunctions() {
		r.byName[Scalar][v.Name()] = append(r.byName[Scalar][v.Name()], v)
	}
	for _, v := range r.coll.GetAllAggregateFunctions() {
		r.byName[Aggregate][v.Name()] = append(r.byName[Aggregate][v.Name()], v)
	}
	for _, v := range r.coll.GetAllWindowFunctions() {
		r.byName[Window][v.Name()] = append(r.byName[Window][v.Name()], v)
	}
	for k := range r.byName {
		for _, vs := range r.byName[k] {
			// Deterministic order: by URN preference, URN, then compound name.
			sort.Slice(vs, func(i, j int) bool {
				if vs[i].URN() != vs[j].URN() {
					pi, pj := urnRank(vs[i].URN()), urnRank(vs[j].URN())
					if pi != pj {
						return pi < pj
					}
					return vs[i].URN() < vs[j].URN()
				}
				return vs[i].CompoundName() < vs[j].CompoundName()
			})
		}
	}
	return r, nil
})

// urnRank orders the extensions declaring the same function name: the
// decimal-output count variants and the approximate aggregates are chosen
// only when nothing else fits.
func urnRank(urn string) int {
	switch urn {
	case StandardURNPrefix + "functions_aggregate_decimal_output", StandardURNPrefix + "functions_aggregate_approx":
		return 1
	}
	return 0
}

func mustRegistry() *registry {
	r, err := loadRegistry()
	if err != nil {
		// The extensions are embedded in the binary: failing to load them is
		// a build defect, not a runtime condition.
		panic(err)
	}
	return r
}

// Collection returns the substrait-go collection holding the standard
// extensions and functions_arbalest.yaml.
func Collection() *sgext.Collection { return mustRegistry().coll }

// KnownURN reports whether urn is a standard extension or Arbalest's.
func KnownURN(urn string) bool { return mustRegistry().urns[urn] }

// URNForFile maps an extension file reference (a URI or path such as
// https://github.com/substrait-io/substrait/blob/main/extensions/functions_arithmetic.yaml,
// /functions_arithmetic.yaml or functions_arithmetic) to the URN of the
// extension with that file name.
func URNForFile(uri string) (string, bool) {
	base := path.Base(strings.TrimSpace(uri))
	if i := strings.LastIndexAny(base, "#?"); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml")
	u, ok := mustRegistry().fileURN[base]
	return u, ok
}

// URNsDeclaring lists the URNs of the extensions that declare a function of
// the given kind and simple name, sorted.
func URNsDeclaring(kind Kind, name string) []string {
	var out []string
	for _, v := range mustRegistry().byName[kind][name] {
		if len(out) == 0 || out[len(out)-1] != v.URN() {
			out = append(out, v.URN())
		}
	}
	return out
}

// Declared reports whether some known extension declares a function of this
// kind and simple name.
func Declared(kind Kind, name string) bool { return len(mustRegistry().byName[kind][name]) > 0 }

// IsCompoundName reports whether name is the compound (signature-qualified)
// name of a declared function variant of the given kind.
func IsCompoundName(kind Kind, name string) bool {
	base, _, ok := strings.Cut(name, ":")
	if !ok {
		return false
	}
	for _, v := range mustRegistry().byName[kind][base] {
		if v.CompoundName() == name {
			return true
		}
	}
	return false
}

// BaseName strips the signature from a compound function name.
func BaseName(name string) string {
	base, _, _ := strings.Cut(name, ":")
	return base
}

// Resolve chooses the extension URN and the compound name for a call of the
// simple function name with arguments whose short type names are args
// ("i64", "dec", "str", "req" for an enum argument, ...). It prefers a
// declared variant whose signature accepts the arguments; otherwise it
// returns the simple name under the first URN declaring it. ok is false when no known extension declares the name.
func Resolve(kind Kind, name string, args []string) (urn, compound string, ok bool) {
	vs := mustRegistry().byName[kind][name]
	if len(vs) == 0 {
		return "", "", false
	}
	for _, relaxed := range []bool{false, true} {
		for _, v := range vs {
			if signatureAccepts(v, args, relaxed) {
				return v.URN(), v.CompoundName(), true
			}
		}
	}
	// No declared signature accepts these types (e.g. substring with i64
	// positions): a made-up compound name would name no variant, so use the
	// simple name, which consumers resolve by name.
	return vs[0].URN(), name, true
}

// signatureAccepts matches argument short type names against the declared
// signature of v (any/anyN accept every type; the last parameter of a
// variadic function repeats). relaxed lets an interval_compound argument
// (Arbalest's month_day_nano) match interval_day or interval_year
// parameters.
func signatureAccepts(v variant, args []string, relaxed bool) bool {
	_, sig, _ := strings.Cut(v.CompoundName(), ":")
	var params []string
	if sig != "" {
		params = strings.Split(sig, "_")
	}
	variadic := v.Variadic() != nil
	if variadic {
		if len(params) == 0 || len(args) < len(params)-1 {
			return false
		}
	} else if len(args) != len(params) {
		return false
	}
	for i, a := range args {
		p := params[min(i, len(params)-1)]
		if strings.HasPrefix(p, "any") {
			if a == "req" || a == "opt" {
				return false
			}
			continue
		}
		if p == "opt" && a == "req" {
			continue
		}
		if p != a && !(relaxed && a == "icompound" && (p == "iday" || p == "iyear")) {
			return false
		}
	}
	return true
}
