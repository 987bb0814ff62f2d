//! A small XML tree for Sophos Firewall's API: requests and replies are a
//! few KiB of elements and text, read whole. quick-xml does the parsing and
//! the escaping; this keeps the tree and refuses what the API never sends
//! (a DTD, entities other than XML's five, very deep or very large trees).

use std::fmt::Write as _;

use quick_xml::events::Event;

/// Deepest nesting read: the API's documents are a few levels deep.
const MAX_DEPTH: usize = 32;
/// Most elements read from one document.
const MAX_ELEMENTS: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not well-formed XML: {0}")]
pub struct XmlError(pub String);

/// One element: its attributes, child elements and (for a leaf) its text,
/// trimmed of surrounding white space.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Element {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attrs: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Element>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
}

impl Element {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), ..Self::default() }
    }

    /// A leaf `<name>text</name>`.
    pub fn leaf(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self { name: name.into(), text: text.into(), ..Self::default() }
    }

    pub fn attr(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attrs.push((key.into(), value.into()));
        self
    }

    pub fn with(mut self, child: Element) -> Self {
        self.children.push(child);
        self
    }

    pub fn with_leaf(self, name: &str, text: impl Into<String>) -> Self {
        self.with(Element::leaf(name, text))
    }

    pub fn get_attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child called `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// The texts of `<list><item>…</item>…</list>`.
    pub fn list(&self, list: &str, item: &str) -> Vec<String> {
        self.child(list).map(|l| l.children_named(item).map(|i| i.text.clone()).collect()).unwrap_or_default()
    }

    pub fn parse(input: &str) -> Result<Element, XmlError> {
        let mut reader = quick_xml::Reader::from_str(input);
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        let mut count = 0usize;
        let bad = |e: &dyn std::fmt::Display| XmlError(e.to_string());
        loop {
            let event = reader.read_event().map_err(|e| bad(&e))?;
            match event {
                Event::Start(ref s) | Event::Empty(ref s) => {
                    count += 1;
                    if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                        return Err(XmlError("the document is too large or too deep".into()));
                    }
                    if root.is_some() {
                        return Err(XmlError("content after the root element".into()));
                    }
                    let name = std::str::from_utf8(s.name().as_ref()).map_err(|e| bad(&e))?.to_owned();
                    let mut el = Element::new(name);
                    for a in s.attributes() {
                        let a = a.map_err(|e| bad(&e))?;
                        let key = std::str::from_utf8(a.key.as_ref()).map_err(|e| bad(&e))?.to_owned();
                        let value = a.unescape_value().map_err(|e| bad(&e))?.into_owned();
                        el.attrs.push((key, value));
                    }
                    if matches!(event, Event::Empty(_)) {
                        attach(&mut stack, &mut root, el);
                    } else {
                        stack.push(el);
                    }
                }
                Event::End(_) => {
                    // quick-xml has checked that the end tag matches.
                    let Some(mut el) = stack.pop() else { return Err(XmlError("unexpected end tag".into())) };
                    el.text = el.text.trim().to_owned();
                    if !el.children.is_empty() && !el.text.is_empty() {
                        return Err(XmlError(format!("<{}> mixes text and elements", el.name)));
                    }
                    attach(&mut stack, &mut root, el);
                }
                Event::Text(t) => {
                    let text = t.decode().map_err(|e| bad(&e))?;
                    match stack.last_mut() {
                        Some(el) => el.text.push_str(&text),
                        None if text.trim().is_empty() => {}
                        None => return Err(XmlError("text outside the root element".into())),
                    }
                }
                Event::CData(c) => {
                    let text = c.decode().map_err(|e| bad(&e))?;
                    match stack.last_mut() {
                        Some(el) => el.text.push_str(&text),
                        None => return Err(XmlError("CDATA outside the root element".into())),
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved = if r.is_char_ref() {
                        r.resolve_char_ref().map_err(|e| bad(&e))?
                    } else {
                        let name = r.decode().map_err(|e| bad(&e))?;
                        quick_xml::escape::resolve_xml_entity(&name).and_then(|s| s.chars().next())
                    };
                    let Some(c) = resolved else {
                        return Err(XmlError("an entity other than XML's predefined ones".into()));
                    };
                    match stack.last_mut() {
                        Some(el) => el.text.push(c),
                        None => return Err(XmlError("text outside the root element".into())),
                    }
                }
                Event::DocType(_) => return Err(XmlError("a DTD is not accepted".into())),
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => break,
            }
        }
        if !stack.is_empty() {
            return Err(XmlError(format!("<{}> is not closed", stack[stack.len() - 1].name)));
        }
        root.ok_or_else(|| XmlError("no root element".into()))
    }

    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            let _ = write!(out, " {k}=\"{}\"", quick_xml::escape::escape(v.as_str()));
        }
        if self.children.is_empty() && self.text.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        out.push_str(&quick_xml::escape::escape(self.text.as_str()));
        for c in &self.children {
            c.write(out);
        }
        let _ = write!(out, "</{}>", self.name);
    }
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_reads_back_with_attributes_lists_and_escapes() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<Response APIVersion="2100.1" IPS_CAT_VER="1">
  <Login><status>Authentication Successful</status></Login>
  <RealServers transactionid="">
    <Name>hawaf a &amp; b &#x41;</Name>
    <Domains><Domain>x.example</Domain><Domain>y.example</Domain></Domains>
    <Empty/>
  </RealServers>
</Response>"#;
        let r = Element::parse(doc).expect("parses");
        assert_eq!(r.get_attr("APIVersion"), Some("2100.1"));
        assert_eq!(r.child("Login").and_then(|l| l.text_of("status")), Some("Authentication Successful"));
        let rs = r.child("RealServers").expect("entity");
        assert_eq!(rs.text_of("Name"), Some("hawaf a & b A"));
        assert_eq!(rs.list("Domains", "Domain"), vec!["x.example", "y.example"]);
        assert_eq!(rs.text_of("Empty"), Some(""));
    }

    #[test]
    fn written_documents_parse_back_to_the_same_tree() {
        let el = Element::new("Request")
            .with(Element::new("Login").with_leaf("Username", "admin").with_leaf("Password", "p<&>\"'w"))
            .with(Element::new("Set").attr("operation", "add").with(Element::new("FQDNHost").with_leaf("Name", "a b")));
        let xml = el.to_xml();
        assert!(!xml.contains("p<&>"), "{xml}");
        assert_eq!(Element::parse(&xml).expect("parses"), el);
    }

    #[test]
    fn malformed_and_hostile_documents_are_refused() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "text",
            "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
            "<a>&x;</a>",
            "<a>t<b/></a>",
        ] {
            assert!(Element::parse(bad).is_err(), "{bad:?}");
        }
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert!(Element::parse(&deep).is_err());
    }
}
