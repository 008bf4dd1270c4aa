// Tests for src/policy/validation.ts and the Go rendering in src/go/field-error.ts.
// Messages follow field.Error.Error() (apimachinery pkg/util/validation/field/errors.go) and the
// checks of pkg/apis/core/validation/validation.go (kubelet.md §3).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  aggregateMessage,
  fieldForbidden,
  fieldInvalid,
  fieldNotSupported,
  fieldRequired,
  renderBadValue,
} from "../../src/go/index.ts";
import { type ContainerLike, validateContainer } from "../../src/policy/index.ts";

const P = "spec.containers[0]";

function messages(c: ContainerLike, pod: boolean, path = P): string[] {
  return validateContainer(c, path, { pod }).map((e) => e.message);
}

describe("validateContainer: image", () => {
  const table: readonly (readonly [string, unknown, readonly string[], readonly string[]])[] = [
    // [name, image, pod errors, template errors]
    ["valid", "nginx:1.25", [], []],
    ["not parsed by the API (upper case)", "Nginx", [], []],
    ["not parsed by the API (space inside)", "a b", [], []],
    ["empty", "", [`${P}.image: Required value`], [`${P}.image: Required value`]],
    ["absent", undefined, [`${P}.image: Required value`], [`${P}.image: Required value`]],
    ["null", null, [`${P}.image: Required value`], [`${P}.image: Required value`]],
    [
      "leading space",
      " nginx",
      [`${P}.image: Invalid value: " nginx": must not have leading or trailing whitespace`],
      [],
    ],
    [
      "trailing space",
      "nginx ",
      [`${P}.image: Invalid value: "nginx ": must not have leading or trailing whitespace`],
      [],
    ],
    [
      'placeholder " " (allowed in templates)',
      " ",
      [`${P}.image: Invalid value: " ": must not have leading or trailing whitespace`],
      [],
    ],
    [
      "tab, quoted with Go's %q",
      "\tnginx",
      [`${P}.image: Invalid value: "\\tnginx": must not have leading or trailing whitespace`],
      [],
    ],
    [
      "newline",
      "nginx\n",
      [`${P}.image: Invalid value: "nginx\\n": must not have leading or trailing whitespace`],
      [],
    ],
    [
      "U+0085 NEL is Go whitespace",
      "nginx\u0085",
      [`${P}.image: Invalid value: "nginx\\u0085": must not have leading or trailing whitespace`],
      [],
    ],
    [
      "U+00A0 NBSP is Go whitespace",
      "\u00a0nginx",
      [`${P}.image: Invalid value: "\\u00a0nginx": must not have leading or trailing whitespace`],
      [],
    ],
    [
      "U+3000 ideographic space is Go whitespace",
      "nginx\u3000",
      [`${P}.image: Invalid value: "nginx\\u3000": must not have leading or trailing whitespace`],
      [],
    ],
    ["U+FEFF BOM is not Go whitespace", "\ufeffnginx", [], []],
    ["U+200B zero-width space is not Go whitespace", "nginx\u200b", [], []],
    [
      "a number",
      42,
      [`${P}.image: Invalid value: 42: must be a string`],
      [`${P}.image: Invalid value: 42: must be a string`],
    ],
    [
      "a boolean",
      true,
      [`${P}.image: Invalid value: true: must be a string`],
      [`${P}.image: Invalid value: true: must be a string`],
    ],
    [
      "a map",
      { b: 1, a: "x" },
      [`${P}.image: Invalid value: {"a":"x","b":1}: must be a string`],
      [`${P}.image: Invalid value: {"a":"x","b":1}: must be a string`],
    ],
    [
      "a list",
      ["nginx"],
      [`${P}.image: Invalid value: ["nginx"]: must be a string`],
      [`${P}.image: Invalid value: ["nginx"]: must be a string`],
    ],
  ];
  for (const [name, image, podErrors, templateErrors] of table) {
    it(`${name}: pod`, () => {
      assert.deepEqual(messages({ image, imagePullPolicy: "Always" }, true), podErrors);
    });
    it(`${name}: template`, () => {
      assert.deepEqual(messages({ image, imagePullPolicy: "Always" }, false), templateErrors);
    });
  }
});

describe("validateContainer: imagePullPolicy", () => {
  const unsupported = (v: string) =>
    `${P}.imagePullPolicy: Unsupported value: ${v}: supported values: "Always", "IfNotPresent", "Never"`;
  const table: readonly (readonly [unknown, readonly string[]])[] = [
    ["Always", []],
    ["IfNotPresent", []],
    ["Never", []],
    ["", [`${P}.imagePullPolicy: Required value`]],
    [undefined, [`${P}.imagePullPolicy: Required value`]],
    [null, [`${P}.imagePullPolicy: Required value`]],
    ["X", [unsupported('"X"')]],
    ["always", [unsupported('"always"')]],
    [" Always", [unsupported('" Always"')]],
    ['Al"ways', [unsupported('"Al\\"ways"')]],
    [1.5, [`${P}.imagePullPolicy: Invalid value: 1.5: must be a string`]],
  ];
  for (const [policy, expected] of table) {
    for (const pod of [true, false]) {
      it(`${JSON.stringify(policy)} (pod=${pod})`, () => {
        assert.deepEqual(messages({ image: "nginx", imagePullPolicy: policy }, pod), expected);
      });
    }
  }
});

describe("validateContainer: structure and order", () => {
  it("fills type, field, badValue and detail", () => {
    assert.deepEqual(validateContainer({ image: " x", imagePullPolicy: "X" }, P, { pod: true }), [
      {
        type: "FieldValueNotSupported",
        field: `${P}.imagePullPolicy`,
        badValue: "X",
        detail: 'supported values: "Always", "IfNotPresent", "Never"',
        message: `${P}.imagePullPolicy: Unsupported value: "X": supported values: "Always", "IfNotPresent", "Never"`,
      },
      {
        type: "FieldValueInvalid",
        field: `${P}.image`,
        badValue: " x",
        detail: "must not have leading or trailing whitespace",
        message: `${P}.image: Invalid value: " x": must not have leading or trailing whitespace`,
      },
    ]);
    assert.deepEqual(validateContainer({ imagePullPolicy: "Never" }, P, { pod: false }), [
      {
        type: "FieldValueRequired",
        field: `${P}.image`,
        detail: "",
        message: `${P}.image: Required value`,
      },
    ]);
  });
  it("reports image, then pull policy, then (pods) whitespace — upstream's order", () => {
    assert.deepEqual(messages({}, true), [
      `${P}.image: Required value`,
      `${P}.imagePullPolicy: Required value`,
    ]);
    assert.deepEqual(messages({ image: "x ", imagePullPolicy: "" }, true), [
      `${P}.imagePullPolicy: Required value`,
      `${P}.image: Invalid value: "x ": must not have leading or trailing whitespace`,
    ]);
  });
  it("uses the given path", () => {
    assert.deepEqual(
      messages(
        { image: "", imagePullPolicy: "Always" },
        false,
        "spec.template.spec.initContainers[2]",
      ),
      ["spec.template.spec.initContainers[2].image: Required value"],
    );
  });
  it("treats a non-object container as one with no fields", () => {
    assert.deepEqual(messages(null as unknown as ContainerLike, true), [
      `${P}.image: Required value`,
      `${P}.imagePullPolicy: Required value`,
    ]);
  });
  it("ignores the container name", () => {
    assert.deepEqual(messages({ name: 42, image: "nginx", imagePullPolicy: "Always" }, true), []);
  });
});

describe("field errors (field.Error rendering)", () => {
  it("renders each type like Go", () => {
    assert.equal(fieldRequired("a.b").message, "a.b: Required value");
    assert.equal(fieldRequired("a.b", "must be set").message, "a.b: Required value: must be set");
    assert.equal(fieldForbidden("a.b", "not allowed").message, "a.b: Forbidden: not allowed");
    assert.equal(fieldInvalid("a.b", "v", "").message, 'a.b: Invalid value: "v"');
    assert.equal(fieldInvalid("a.b", 3, "too big").message, "a.b: Invalid value: 3: too big");
    assert.equal(
      fieldNotSupported("a.b", "", ["Always"]).message,
      'a.b: Unsupported value: "": supported values: "Always"',
    );
    assert.equal(fieldNotSupported("a.b", "x", []).message, 'a.b: Unsupported value: "x"');
  });
  it("renders bad values with %q, %v or JSON", () => {
    const table: readonly (readonly [unknown, string])[] = [
      ["plain", '"plain"'],
      ['q"b\\s', '"q\\"b\\\\s"'],
      ["\x07\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'],
      ["\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'],
      ["é中😀", '"é中😀"'],
      ["\u0085\u00a0\u2028", '"\\u0085\\u00a0\\u2028"'],
      [42, "42"],
      [-7, "-7"],
      [1000000, "1000000"],
      [1.5, "1.5"],
      [1234567.5, "1.2345675e+06"],
      [0.00001, "1e-05"],
      [0.0001, "0.0001"],
      [true, "true"],
      [false, "false"],
      [null, "null"],
      [{ z: 1, a: [1, "<&>"] }, '{"a":[1,"\\u003c\\u0026\\u003e"],"z":1}'],
      [[], "[]"],
    ];
    for (const [value, rendered] of table)
      assert.equal(renderBadValue(value), rendered, String(value));
  });
  it("aggregates like utilerrors.NewAggregate", () => {
    assert.equal(aggregateMessage([]), "");
    assert.equal(aggregateMessage(["a"]), "a");
    assert.equal(aggregateMessage(["a", "b"]), "[a, b]");
    assert.equal(aggregateMessage(["a", "a"]), "a");
    assert.equal(aggregateMessage(["a", "b", "a"]), "[a, b]");
  });
});
