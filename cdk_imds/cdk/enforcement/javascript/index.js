"use strict";
// The JavaScript half of cdk-imds enforcement, loaded into the jsii kernel next to aws-cdk-lib
// (cdk_imds/cdk/enforcement/javascript/__init__.py loads it; its types are declared in
// jsii-assembly.json). It decides nothing: which resources to fix, with what, and whether a value
// may be replaced are all decided in Python by the policy engine's rules. What lives here is what
// costs a Node.js round trip per construct when done from Python (0.3 to 0.6 ms each): visiting
// every construct, reading one property of many resources, writing many overrides and notes.
const { App, CfnResource, Stage, Token } = require("aws-cdk-lib");

// What readValue() says of one value.
const ABSENT = 0; // it, or something on the way to it, is not set
const LITERAL = 1; // a plain string, number or boolean, returned with it
const TOKEN = 2; // only known at deploy time (a token), or not a plain value

// An aspect whose visits stay in JavaScript. CDK calls visit() for every construct below where the
// aspect was added; the first visit calls begin() (Python: settings, plugin, the sweep), every
// one applies the override kept for its construct (so it comes after aspects of lower
// priority) and hands Python only a candidate it has not seen (one another aspect added later).
class FixingAspect {
  constructor() {
    this._begun = false;
    this._swept = [];
    this._overrides = new Map();
    this._known = new WeakSet();
    this._watched = null;
  }

  visit(node) {
    if (!this._begun) {
      this._begun = true;
      this.begin(node);
    }
    if (
      this._watched !== null &&
      CfnResource.isCfnResource(node) &&
      !this._known.has(node) &&
      this._watched.has(node.cfnResourceType)
    ) {
      this._known.add(node);
      this.adopt(node); // sweeps it: its override, if any, is kept by now
    }
    const override = this._overrides.get(node);
    if (override !== undefined) node.addPropertyOverride(override[0], override[1]);
  }

  // Overridden in Python.
  begin(_node) {}
  adopt(_node) {}

  // The resources of the given types under scope, not entering a nested Stage (CDK synthesizes it
  // before the outer aspects run; its own aspect covers it). switches: CloudFormation type ->
  // [the path in a typed L1's properties, the path in a bare CfnResource's], read for each such
  // resource; others: types whose resources are returned as they are. Returns [rows, others]:
  // rows, as one JSON string, a [construct path, type, what readValue() says] per switch resource
  // in the order keep() and note() refer to them by; the other resources themselves. (jsii
  // converts a list element by element, about 70 microseconds a row; a string crosses whole.)
  sweep(scope, switches, others) {
    this._swept = []; // keep() and note() refer to this sweep's rows
    const rows = [];
    const found = [];
    const visit = (node) => {
      if (CfnResource.isCfnResource(node)) {
        const paths = switches[node.cfnResourceType];
        if (paths !== undefined) {
          this._swept.push(node);
          this._known.add(node);
          rows.push([node.node.path, node.cfnResourceType, readValue(node, paths[isBare(node) ? 1 : 0])]);
        } else if (others.includes(node.cfnResourceType)) {
          this._known.add(node);
          found.push(node);
        }
      }
      for (const child of node.node.children) {
        if (!Stage.isStage(child)) visit(child);
      }
    };
    visit(scope);
    return [JSON.stringify(rows), found];
  }

  // overrides: a JSON list of [index of a swept resource, path, value], applied on each visit of
  // the resource. Every swept resource is below the construct begin() was called on, so CDK visits
  // it after the sweep: applying it now as well would only double the work.
  keep(overrides) {
    for (const [at, path, value] of JSON.parse(overrides)) {
      this._overrides.set(this._swept[at], [path, value]);
    }
  }

  // notes: a JSON list of [index of a swept resource, message]: one metadata entry of the given
  // type on each.
  note(type, notes) {
    for (const [at, message] of JSON.parse(notes)) this._swept[at].node.addMetadata(type, message);
  }

  // From now on, a visited resource of these types that no sweep found goes to adopt().
  watch(types) {
    this._watched = new Set(types);
  }
}

// A typed L1 (CfnLaunchTemplate...) keeps its properties under jsii names; a bare CfnResource, and
// a subclass of it, under the CloudFormation names it was given.
function isBare(node) {
  return node.constructor.CFN_RESOURCE_TYPE_NAME === undefined;
}

// The value at path in the properties the resource's constructor got (not its escape-hatch
// overrides): [ABSENT], [LITERAL, value] or [TOKEN].
function readValue(node, path) {
  let value = node.cfnProperties;
  for (const key of path) {
    if (value === undefined || value === null) return [ABSENT];
    if (typeof value !== "object" || Array.isArray(value) || Token.isUnresolved(value)) return [TOKEN];
    value = value[key];
  }
  if (value === undefined || value === null) return [ABSENT];
  if (typeof value === "boolean") return [LITERAL, value];
  if (typeof value === "string" || typeof value === "number") {
    return Token.isUnresolved(value) ? [TOKEN] : [LITERAL, value];
  }
  return [TOKEN];
}

class Bulk {
  // Every Stage below scope (not scope itself, not an App), innermost first.
  static stages(scope) {
    return scope.node
      .findAll()
      .filter((node) => node !== scope && Stage.isStage(node) && !App.isApp(node))
      .reverse();
  }
}

module.exports = { FixingAspect, Bulk };
