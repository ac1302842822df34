import sax from "sax";

/**
 * Request bodies (PROPFIND, PROPPATCH) read with sax, strict and
 * namespace-aware: the parser under webdav-server's own XML library. Elements
 * carry their namespace URI and local name, which is what WebDAV property names are.
 */
export const DAV = "DAV:";
const XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NAMESPACE = "http://www.w3.org/2000/xmlns/";

export type XmlAttribute = { namespace: string; name: string; value: string };
export type XmlElement = { kind: "element"; namespace: string; name: string; attributes: XmlAttribute[]; children: XmlNode[] };
export type XmlNode = XmlElement | { kind: "text"; text: string };

/**
 * Deepest nesting read: property values are written back by recursion (serializeXml), which a
 * document nested 100,000 deep overflowed (a 500). Clients' properties are a level or two deep.
 */
export const MAX_XML_DEPTH = 100;

/** The root element of a well-formed document with valid namespaces, nested at most MAX_XML_DEPTH deep, or null. */
export function parseXml(body: Buffer | string): XmlElement | null {
  const parser = sax.parser(true, { xmlns: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let isValid = true;
  parser.onerror = () => {
    isValid = false;
  };
  parser.onopentag = (openTag) => {
    // With xmlns: true, sax reports every tag and attribute qualified (its types cannot say so).
    const tag = openTag as sax.QualifiedTag;
    const attributes: XmlAttribute[] = [];
    for (const attribute of Object.values(tag.attributes)) {
      if (attribute.uri === XMLNS_NAMESPACE || attribute.name === "xmlns") {
        // Namespaces in XML 1.0: a prefix cannot be bound to "" (sax lets it pass).
        if (attribute.name.startsWith("xmlns:") && attribute.value === "") isValid = false;
        continue;
      }
      attributes.push({ namespace: attribute.uri ?? "", name: attribute.local, value: attribute.value });
    }
    if (stack.length >= MAX_XML_DEPTH) isValid = false;
    const element: XmlElement = { kind: "element", namespace: tag.uri ?? "", name: tag.local, attributes, children: [] };
    if (stack.length > 0) stack[stack.length - 1].children.push(element);
    else if (root) isValid = false;
    else root = element;
    stack.push(element);
  };
  parser.onclosetag = () => {
    stack.pop();
  };
  parser.ontext = parser.oncdata = (text) => {
    if (stack.length > 0) stack[stack.length - 1].children.push({ kind: "text", text });
    else if (text.trim() !== "") isValid = false;
  };
  try {
    parser.write(typeof body === "string" ? body : body.toString("utf8")).close();
  } catch {
    return null;
  }
  return isValid && stack.length === 0 ? root : null;
}

export const elementsOf = (element: XmlElement) => element.children.filter((child): child is XmlElement => child.kind === "element");
export const isNamed = (element: XmlElement, namespace: string, name: string) => element.namespace === namespace && element.name === name;
export const findElement = (element: XmlElement, namespace: string, name: string) =>
  elementsOf(element).find((child) => isNamed(child, namespace, name));

/** Text as XML character data. */
export function escapeXml(text: string) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#13;");
}

/** Text as an XML attribute value (in double quotes). */
export function escapeAttribute(text: string) {
  return escapeXml(text).replace(/"/g, "&quot;").replace(/\n/g, "&#10;").replace(/\t/g, "&#9;");
}

/**
 * Nodes written back as XML that stands on its own: each element declares its
 * own namespace as the default (xmlns="" when it has none), so it means the
 * same inside any parent.
 */
export function serializeXml(nodes: XmlNode[]): string {
  return nodes.map((node) => (node.kind === "text" ? escapeXml(node.text) : serializeElement(node))).join("");
}

function serializeElement(element: XmlElement): string {
  const attributes = [`xmlns="${escapeAttribute(element.namespace)}"`];
  element.attributes.forEach((attribute, index) => {
    const value = escapeAttribute(attribute.value);
    if (attribute.namespace === "") attributes.push(`${attribute.name}="${value}"`);
    else if (attribute.namespace === XML_NAMESPACE) attributes.push(`xml:${attribute.name}="${value}"`);
    else attributes.push(`xmlns:a${index}="${escapeAttribute(attribute.namespace)}"`, `a${index}:${attribute.name}="${value}"`);
  });
  const open = `${element.name} ${attributes.join(" ")}`;
  return element.children.length === 0 ? `<${open}/>` : `<${open}>${serializeXml(element.children)}</${element.name}>`;
}

/** An element named by namespace and local name, with its content already XML. */
export function propertyElement(namespace: string, name: string, content = "") {
  const open = namespace === DAV ? `D:${name}` : `P:${name} xmlns:P="${escapeAttribute(namespace)}"`;
  const close = namespace === DAV ? `D:${name}` : `P:${name}`;
  if (namespace === "") return content === "" ? `<${name} xmlns=""/>` : `<${name} xmlns="">${content}</${name}>`;
  return content === "" ? `<${open}/>` : `<${open}>${content}</${close}>`;
}
