#!/usr/bin/env bats
# The pure parts of lib/flow, by tables of cases: the resume schema, the
# context and a step's output, prompt templates, the replay decision, a
# run's context from its journal, step names, workflow files that are one
# plain pipeline. Each table is pairs of lines: a case for
# build/unit/flowcheck, then the result it must give.

bats_require_minimum_version 1.5.0
load helper

FLOWCHECK=$PANIC_BIN/../unit/flowcheck

# table: the pairs on stdin; every case must give its result
table() {
	local cases expect
	cases=$(mktemp) expect=$(mktemp)
	grep -v '^#' | grep -v '^$' | awk -v c="$cases" -v e="$expect" 'NR % 2 { print > c; next } { print > e }'
	run "$FLOWCHECK" < "$cases"
	assert_success
	diff -u "$expect" <(echo "$output") || fail "a case gave something else (above: - expected, + got)"
}

@test "schema: every type, optional fields, nesting, and what is not a schema" {
	table <<'T'
{"fn":"schema_check","schema":{"a":"string","b":"boolean","c":"integer","d":"float","e":"map","f":"list"}}
{"ok":true}
{"fn":"schema_check","schema":{"a":"string?","o":{"x":"integer"},"l":["float"],"ll":[{"n":"string"}]}}
{"ok":true}
{"fn":"schema_check","schema":{}}
{"ok":true}
{"fn":"schema_check","schema":{"when":"date"}}
{"error":"schema: field 'when': unknown type 'date' (string, boolean, integer, float, map or list; with ? if optional; an array of one type for a list of it)"}
{"fn":"schema_check","schema":{"o":{"deep":"timestamp?"}}}
{"error":"schema: field 'o.deep': unknown type 'timestamp?' (string, boolean, integer, float, map or list; with ? if optional; an array of one type for a list of it)"}
{"fn":"schema_check","schema":{"n":5}}
{"error":"schema: field 'n': a type is a string, an object or [type], got number"}
{"fn":"schema_check","schema":{"l":["string","integer"]}}
{"error":"schema: field 'l': a list type is an array of one type"}
{"fn":"schema_check","schema":{"":"string"}}
{"error":"schema: a field name is empty"}
{"fn":"schema_check","schema":["string"]}
{"error":"schema: expected an object of fields and types, got array"}
{"fn":"schema_check","schema":{"x":"?"}}
{"error":"schema: field 'x': unknown type '?' (string, boolean, integer, float, map or list; with ? if optional; an array of one type for a list of it)"}
T
}

@test "schema: input meets it, or the error names the field" {
	table <<'T'
{"fn":"schema_validate","schema":{"approved":"boolean"},"input":{"approved":true}}
{"ok":true}
{"fn":"schema_validate","schema":{"approved":"boolean"},"input":{"approved":false,"extra":1}}
{"ok":true}
{"fn":"schema_validate","schema":{"approved":"boolean"},"input":{}}
{"error":"missing field 'approved'"}
{"fn":"schema_validate","schema":{"approved":"boolean"},"input":{"approved":"yes"}}
{"error":"field 'approved': expected boolean, got string"}
{"fn":"schema_validate","schema":{"n":"integer"},"input":{"n":3}}
{"ok":true}
{"fn":"schema_validate","schema":{"n":"integer"},"input":{"n":3.5}}
{"error":"field 'n': expected integer, got float"}
{"fn":"schema_validate","schema":{"x":"float"},"input":{"x":3}}
{"ok":true}
{"fn":"schema_validate","schema":{"x":"float"},"input":{"x":"3"}}
{"error":"field 'x': expected float, got string"}
{"fn":"schema_validate","schema":{"m":"map"},"input":{"m":[]}}
{"error":"field 'm': expected map, got list"}
{"fn":"schema_validate","schema":{"l":"list"},"input":{"l":{}}}
{"error":"field 'l': expected list, got map"}
{"fn":"schema_validate","schema":{"s":"string"},"input":{"s":null}}
{"error":"field 's': expected string, got null"}
{"fn":"schema_validate","schema":{"s":"string?"},"input":{"s":null}}
{"ok":true}
{"fn":"schema_validate","schema":{"s":"string?"},"input":{}}
{"ok":true}
{"fn":"schema_validate","schema":{"s":"string?"},"input":{"s":1}}
{"error":"field 's': expected string, got integer"}
{"fn":"schema_validate","schema":{"o":{"name":"string"}},"input":{"o":{"name":7}}}
{"error":"field 'o.name': expected string, got integer"}
{"fn":"schema_validate","schema":{"o":{"name":"string"}},"input":{"o":{}}}
{"error":"missing field 'o.name'"}
{"fn":"schema_validate","schema":{"tags":["string"]},"input":{"tags":["a","b",3]}}
{"error":"field 'tags[2]': expected string, got integer"}
{"fn":"schema_validate","schema":{"b":"boolean"},"input":[true]}
{"error":"expected a JSON object, got array"}
T
}

@test "schema: every error of an answer at once, each with its field, for a form" {
	table <<'T'
{"fn":"schema_errors","schema":{"ok":"boolean","n":"integer"},"input":{"ok":true,"n":2}}
{"errors":[]}
{"fn":"schema_errors","schema":{"ok":"boolean","n":"integer","note":"string?","x":"float"},"input":{"ok":"yes","n":2.5,"note":null}}
{"errors":[{"field":"ok","message":"field 'ok': expected boolean, got string"},{"field":"n","message":"field 'n': expected integer, got float"},{"field":"x","message":"missing field 'x'"}]}
{"fn":"schema_errors","schema":{"o":{"a":"string","b":"map"},"l":["integer"]},"input":{"o":{"b":[]},"l":[1,"2",3.5]}}
{"errors":[{"field":"o.a","message":"missing field 'o.a'"},{"field":"o.b","message":"field 'o.b': expected map, got list"},{"field":"l[1]","message":"field 'l[1]': expected integer, got string"},{"field":"l[2]","message":"field 'l[2]': expected integer, got float"}]}
{"fn":"schema_errors","schema":{"ok":"boolean"},"input":"yes"}
{"errors":[{"field":null,"message":"expected a JSON object, got string"}]}
{"fn":"schema_errors","schema":{"ok":"date"},"input":{}}
{"errors":[{"field":null,"message":"schema: field 'ok': unknown type 'date' (string, boolean, integer, float, map or list; with ? if optional; an array of one type for a list of it)"}]}
T
	# a hostile list stops at the cap of 100 errors
	run "$FLOWCHECK" <<<"{\"fn\":\"schema_errors\",\"schema\":{\"l\":[\"integer\"]},\"input\":{\"l\":$(jq -nc '[range(5000) | "x"]')}}"
	assert_success
	assert_equal "$(jq '.errors | length' <<<"$output")" 100
	assert_equal "$(jq -r '.errors[99].field' <<<"$output")" 'l[99]'
}

@test "context: records split, results shallow-merged, a run's context from its journal" {
	table <<'T'
{"fn":"split","rec":{"a":1,"_run":"R","_key":"K","_status":"failed","_error":{},"_other":2}}
{"ctx":{"a":1,"_other":2},"run":"R","key":"K"}
{"fn":"split","rec":{"a":1}}
{"ctx":{"a":1},"run":null,"key":null}
{"fn":"merge","ctx":{"a":1,"b":{"x":1}},"merge":{"b":{"y":2},"c":3}}
{"a":1,"b":{"y":2},"c":3}
{"fn":"merge","ctx":{"a":1},"merge":{}}
{"a":1}
{"fn":"context_of","input":{"a":1},"steps":[{"state":"completed","result":{"b":2}},{"state":"skipped","result":{}},{"state":"suspended","result":null},{"state":"failed","result":{"z":9}},{"state":"completed","result":{"a":3}}]}
{"a":3,"b":2}
T
}

@test "a step's output: one object to merge, a suspension, a stop, or an error" {
	table <<'T'
{"fn":"outcome","text":"{\"plan\":\"x\"}\n"}
{"kind":"merge","merge":{"plan":"x"},"suspend":null,"why":null}
{"fn":"outcome","text":"  {}  "}
{"kind":"merge","merge":{},"suspend":null,"why":null}
{"fn":"outcome","text":"[1,2]"}
{"kind":"bad","merge":null,"suspend":null,"why":"the output is not one JSON object but array"}
{"fn":"outcome","text":"{} {}"}
{"kind":"bad","merge":null,"suspend":null,"why":"the output is more than one JSON value"}
{"fn":"outcome","text":""}
{"kind":"bad","merge":null,"suspend":null,"why":"the output is empty, not a JSON object"}
{"fn":"outcome","text":"plan: x"}
{"kind":"bad","merge":null,"suspend":null,"why":"the output is not JSON: Invalid numeric literal at line 1, column 5"}
{"fn":"outcome","text":"{\"_run\":\"x\"}"}
{"kind":"bad","merge":null,"suspend":null,"why":"the output sets \"_run\", which the pipeline owns"}
{"fn":"outcome","text":"{\"_suspend\":{\"message\":\"OK?\",\"schema\":{\"ok\":\"boolean\"}},\"x\":1}"}
{"kind":"suspend","merge":null,"suspend":{"message":"OK?","metadata":{},"schema":{"ok":"boolean"}},"why":null}
{"fn":"outcome","text":"{\"_suspend\":{\"message\":\"OK?\",\"schema\":{\"ok\":\"yesno\"}}}"}
{"kind":"bad","merge":null,"suspend":null,"why":"schema: field 'ok': unknown type 'yesno' (string, boolean, integer, float, map or list; with ? if optional; an array of one type for a list of it)"}
{"fn":"outcome","text":"{\"_suspend\":{\"metadata\":{}}}"}
{"kind":"bad","merge":null,"suspend":null,"why":"\"_suspend\" needs a \"message\" string"}
{"fn":"outcome","text":"{\"_suspend\":\"now\"}"}
{"kind":"bad","merge":null,"suspend":null,"why":"\"_suspend\" must be an object, got string"}
{"fn":"outcome","text":"{\"_stop\":\"nothing to do\",\"n\":0}"}
{"kind":"stop","merge":{"n":0},"suspend":null,"why":"nothing to do"}
{"fn":"outcome","text":"{\"_stop\":true}"}
{"kind":"stop","merge":{},"suspend":null,"why":"stopped by the step"}
{"fn":"outcome","text":"{\"_stop\":false,\"a\":1}"}
{"kind":"merge","merge":{"a":1},"suspend":null,"why":null}
{"fn":"outcome","text":"{\"_stop\":3}"}
{"kind":"bad","merge":null,"suspend":null,"why":"\"_stop\" must be true or a reason"}
T
}

@test "templates: fields, paths, indexes, values as JSON, and what is missing" {
	table <<'T'
{"fn":"fill","template":"Plan for: {{request}}","ctx":{"request":"a kickoff"}}
{"text":"Plan for: a kickoff"}
{"fn":"fill","template":"{{ a.b }}/{{a.c.1}}/{{n}}/{{t}}/{{z}}","ctx":{"a":{"b":"B","c":[0,"one"]},"n":2.5,"t":true,"z":null}}
{"text":"B/one/2.5/true/null"}
{"fn":"fill","template":"{{o}}","ctx":{"o":{"k":[1,"x"]}}}
{"text":"{\"k\":[1,\"x\"]}"}
{"fn":"fill","template":"no placeholders { } }}","ctx":{}}
{"text":"no placeholders { } }}"}
{"fn":"fill","template":"ünï {{w}} 🌊","ctx":{"w":"cödé"}}
{"text":"ünï cödé 🌊"}
{"fn":"fill","template":"{{missing}}","ctx":{"a":1}}
{"error":"template: the context has no missing"}
{"fn":"fill","template":"{{a.9}}","ctx":{"a":[1]}}
{"error":"template: the context has no a.9"}
{"fn":"fill","template":"x {{ not closed","ctx":{}}
{"error":"template: \"{{\" at byte 3 does not open a {{field}}"}
{"fn":"fill","template":"{{$(rm -rf /)}}","ctx":{}}
{"error":"template: \"{{\" at byte 1 does not open a {{field}}"}
T
}

@test "the replay decision: journalled steps replay, runs that ended pass, waiting runs are held" {
	table <<'T'
{"fn":"decide","status":"running","state":null}
{"action":"run"}
{"fn":"decide","status":"running","state":"completed"}
{"action":"replay"}
{"fn":"decide","status":"completed","state":"completed"}
{"action":"replay"}
{"fn":"decide","status":"waiting_for_human","state":"skipped"}
{"action":"replay"}
{"fn":"decide","status":"stopped","state":null}
{"action":"pass"}
{"fn":"decide","status":"stopped","state":"resumed"}
{"action":"pass"}
{"fn":"decide","status":"failed","state":null}
{"action":"pass"}
{"fn":"decide","status":"failed","state":"failed"}
{"action":"run"}
{"fn":"decide","status":"running","state":"resumed"}
{"action":"run"}
{"fn":"decide","status":"waiting_for_human","state":"suspended"}
{"action":"hold"}
{"fn":"decide","status":"waiting_for_human","state":null}
{"action":"hold"}
{"fn":"decide","status":"running","state":null,"skipping":true,"is_at":false}
{"action":"skip"}
{"fn":"decide","status":"running","state":null,"skipping":true,"is_at":true}
{"action":"run"}
{"fn":"decide","status":"completed","state":null}
{"action":"run"}
T
}

@test "step names: letters, digits, _ - and ., not too long, nothing that could be an option or a path" {
	long=$(printf 'x%.0s' $(seq 65))
	table <<T
{"fn":"name_check","name":"draft"}
{"ok":true}
{"fn":"name_check","name":"step_2.b-c"}
{"ok":true}
{"fn":"name_check","name":""}
{"error":"a step name is 1 to 64 characters, got 0"}
{"fn":"name_check","name":"$long"}
{"error":"a step name is 1 to 64 characters, got 65"}
{"fn":"name_check","name":"../etc"}
{"error":"a step name is letters, digits, '_', '-' and '.', got '../etc'"}
{"fn":"name_check","name":"a/b"}
{"error":"a step name is letters, digits, '_', '-' and '.', got 'a/b'"}
{"fn":"name_check","name":"a b"}
{"error":"a step name is letters, digits, '_', '-' and '.', got 'a b'"}
{"fn":"name_check","name":".hidden"}
{"error":"a step name starts with a letter, a digit or '_', got '.hidden'"}
{"fn":"name_check","name":"-x"}
{"error":"a step name starts with a letter, a digit or '_', got '-x'"}
T
}

@test "a workflow file that is one plain pipeline of syn-steps: its stages as the shell would start them; anything more is not plain" {
	table <<'T'
{"fn":"script","text":"#!/bin/sh\nsyn-step a --jq '{x: 1}' |\nsyn-step b -- sh -c 'echo \"$SYN_STEP\" >> f; echo \"{\\\"s\\\": 1}\"' |\n  syn-step c\n"}
{"stages":[["syn-step","a","--jq","{x: 1}"],["syn-step","b","--","sh","-c","echo \"$SYN_STEP\" >> f; echo \"{\\\"s\\\": 1}\""],["syn-step","c"]]}
{"fn":"script","text":"#!/usr/bin/env syn-run\n# a comment\n\nsyn-step a \\\n  --retry 2 | # why\n\n /usr/local/bin/syn-step \"b\"\"c\"'d'e\\ f\n# end\n"}
{"stages":[["syn-step","a","--retry","2"],["/usr/local/bin/syn-step","bcde f"]]}
{"fn":"script","text":"#!/bin/sh\nsyn-step a | syn-step \"$X\"\n"}
{"not":"an expansion ($) in double quotes"}
{"fn":"script","text":"#!/bin/sh\ncd /tmp\nsyn-step a | syn-step b\n"}
{"not":"a command that is not syn-step (cd)"}
{"fn":"script","text":"#!/bin/sh\nsyn-step a | jq . | syn-step b\n"}
{"not":"a command that is not syn-step (jq)"}
{"fn":"script","text":"#!/bin/sh -e\nsyn-step a\n"}
{"not":"its #! line names another interpreter, or options"}
{"fn":"script","text":"#!/bin/sh\nsyn-step a || syn-step b\n"}
{"not":"'||'"}
{"fn":"script","text":"#!/bin/sh\nsyn-step a > out\n"}
{"not":"'>' outside quotes"}
{"fn":"script","text":"#!/bin/sh\nsyn-step a |\n"}
{"not":"a pipe to nothing"}
{"fn":"script","text":"#!/bin/sh\nFOO=1 syn-step a\n"}
{"not":"a command that is not syn-step (FOO=1)"}
{"fn":"script","text":"#!/bin/sh\nsyn-step a *\n"}
{"not":"'*' outside quotes"}
{"fn":"script","text":"#!/bin/sh\nsyn-step a 'b\n"}
{"not":"a quote without its end"}
{"fn":"script","text":"#!/bin/sh\nsyn-step a \"x\\$y\\\\z\\q\" ''\n"}
{"stages":[["syn-step","a","x$y\\z\\q",""]]}
{"fn":"script","text":"#!/bin/sh\n"}
{"not":"no pipeline"}
{"fn":"script","text":"syn-step a\n"}
{"not":"no #! line"}
{"fn":"script","text":"#!/bin/sh\nsyn-step a; syn-step b\n"}
{"not":"';' outside quotes"}
{"fn":"script","text":"#!/bin/sh\nsyn-step a\nsyn-step b\n"}
{"not":"more than one pipeline"}
{"fn":"script","text":"#!/bin/sh\nsyn-step a |& syn-step b\n"}
{"not":"'|&'"}
{"fn":"script","text":"#!/bin/sh\nsyn-step a ~/x\n"}
{"not":"'~' outside quotes"}
{"fn":"script","text":"#!/bin/python3\nsyn-step a\n"}
{"not":"its #! line names another interpreter, or options"}
{"fn":"script","text":"#!/opt/x/bin/syn-run\nsyn-step a\n"}
{"stages":[["syn-step","a"]]}
{"fn":"script","text":"#!/bin/sh\nsyn-step a --jq \"{a: \\`x\\`}\"\n"}
{"stages":[["syn-step","a","--jq","{a: `x`}"]]}
T
}
