package sqlgen

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
)

// pathTesterCond is the Tester's condition on a JSON path (see
// jsonpath.go): the document is decoded and walked as the servers walk
// it, and the scalar found compared as their SQL compares it.
type pathTesterCond struct {
	c     *column // the path's stand-in column
	none  bool    // an empty list
	null  bool
	nums  []float64
	strs  []string
	bools []bool
}

func newPathTesterCond(c *column, v any) (pathTesterCond, error) {
	pv, err := convertPathValues(v)
	if err != nil {
		return pathTesterCond{}, err
	}
	cond := pathTesterCond{c: c, none: pv.none, null: pv.null}
	for _, x := range pv.nums {
		cond.nums = append(cond.nums, x.(float64))
	}
	for _, x := range pv.strs {
		cond.strs = append(cond.strs, x.(string))
	}
	for _, x := range pv.bools {
		cond.bools = append(cond.bools, x.(string) == "true")
	}
	return cond, nil
}

// pathAbsent is what walkPath finds where the path leads nowhere.
type pathAbsentT struct{}

var pathAbsent any = pathAbsentT{}

func (cond *pathTesterCond) test(sv reflect.Value) bool {
	if cond.none {
		return false
	}
	p := cond.c.path
	dv, err := p.base.desc.Value(p.base.fieldOf(sv))
	if err != nil {
		return false
	}
	var doc []byte
	switch x := dv.(type) {
	case nil:
		return cond.null // a NULL column: the path is absent
	case string:
		doc = []byte(x)
	case []byte:
		doc = x
	default:
		return false
	}
	var root any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		return false
	}
	switch x := walkPath(root, p.steps).(type) {
	case pathAbsentT, nil:
		return cond.null
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return err == nil && slices.Contains(cond.nums, f)
	case string:
		return slices.Contains(cond.strs, x)
	case bool:
		return slices.Contains(cond.bools, x)
	}
	return false // an object or an array
}

// walkPath returns the value at steps in the decoded document v, or
// pathAbsent. As on MySQL and MariaDB, [0] on a value that is not an
// array is the value itself.
func walkPath(v any, steps []pathStep) any {
	for _, s := range steps {
		if s.index < 0 {
			m, ok := v.(map[string]any)
			if !ok {
				return pathAbsent
			}
			if v, ok = m[s.key]; !ok {
				return pathAbsent
			}
			continue
		}
		a, ok := v.([]any)
		switch {
		case ok && s.index < len(a):
			v = a[s.index]
		case !ok && s.index == 0:
			// autowrap: v stays
		default:
			return pathAbsent
		}
	}
	return v
}
