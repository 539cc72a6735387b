// stepline console: plain JavaScript, no build step. Each page is a shell whose
// body[data-page] names the page; this script fetches its JSON from /console/api/ and
// draws it. The graph is laid out by elkjs (vendored, elk.bundled.js) and drawn as SVG;
// while an execution runs, its page polls and only recolours the graph.
"use strict";

const POLL_MS = 1000;
const STATUS_WORDS = {
  NOT_STARTED: "Not started", RUNNING: "In progress", SUCCEEDED: "Succeeded", RETRIED: "Succeeded after retry",
  CAUGHT: "Caught error", FAILED: "Failed", ABORTED: "Cancelled",
};
let session = { canWrite: false, statuses: [] };

// --- small helpers -----------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", body: JSON.stringify(body),
    headers: { "content-type": "application/json", "x-stepline-console": "1" },
  };
  const response = await fetch(path, options);
  if (response.status === 401) { location.href = "/console/login?next=" + encodeURIComponent(location.pathname + location.search); throw new Error("not logged in"); }
  const data = await response.json();
  if (!response.ok) throw new Error(`${data.error}: ${data.message}`);
  return data;
}

// replaceChildren with arrays flattened and nulls dropped (el() does the same for children)
function fill(container, ...children) {
  container.replaceChildren(...children.flat(2).filter((c) => c !== null && c !== undefined && c !== false));
}

const params = new URLSearchParams(location.search);
const main = () => document.getElementById("main");
const badge = (status) => el("span", { class: `badge ${status}`, "data-status": status }, STATUS_WORDS[status] || status);
const link = (href, text) => el("a", { href }, text);
const executionHref = (arn) => "/console/execution?arn=" + encodeURIComponent(arn);
const machineHref = (arn) => "/console/machine?arn=" + encodeURIComponent(arn);

function when(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  return date.toLocaleString(undefined, { year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function duration(start, stop) {
  if (!start) return "–";
  const ms = (stop ? new Date(stop) : new Date()) - new Date(start);
  if (ms < 1000) return `${Math.max(ms, 0)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3600000) return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
  return `${Math.floor(ms / 3600000)} h ${Math.round((ms % 3600000) / 60000)} min`;
}

function pretty(text) {
  if (text === null || text === undefined) return "–";
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return String(text); }
}

function fail(error) {
  fill(main(), el("p", { class: "notice error" }, String(error.message || error)));
}

function flash(container, error) {
  const note = el("p", { class: "notice error", role: "alert" }, String(error.message || error));
  container.prepend(note);
  setTimeout(() => note.remove(), 8000);
}

// --- the graph -------------------------------------------------------------------

const NODE_H = 42, PSEUDO = 14;
const nodeWidth = (node) => Math.max(120, node.name.length * 7.4 + 40);

function elkGraph(graph) {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const owned = new Map();
  for (const scope of graph.scopes) {
    if (scope.owner !== null) owned.set(scope.owner, [...(owned.get(scope.owner) || []), scope]);
  }
  const scopeOf = new Map(graph.nodes.map((n) => [n.id, n.scope]));
  const edgesOf = (scopeId) => graph.edges
    .map((edge, index) => ({ ...edge, index }))
    .filter((edge) => scopeOf.get(edge.source) === scopeId && edge.source !== edge.target)
    .map((edge) => ({
      id: `e${edge.index}`, sources: [edge.source], targets: [edge.target], kind: edge.kind,
      labels: edge.label ? [{ text: edge.label, width: edge.label.length * 5.6 + 6, height: 12 }] : [],
    }));
  const layered = {
    "elk.algorithm": "layered", "elk.direction": "DOWN",
    "elk.layered.spacing.nodeNodeBetweenLayers": "38", "elk.spacing.nodeNode": "28",
    "elk.spacing.edgeLabel": "4", "elk.edgeLabels.placement": "CENTER",
    "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF", "elk.edgeRouting": "ORTHOGONAL",
  };
  const child = (id) => {
    const node = nodes.get(id);
    if (node.type === "Start" || node.type === "End") return { id, width: PSEUDO, height: PSEUDO };
    const scopes = owned.get(id);
    if (!scopes) return { id, width: nodeWidth(node), height: NODE_H };
    return {
      id, minWidth: nodeWidth(node),
      layoutOptions: { "elk.algorithm": "box", "elk.aspectRatio": "100", "elk.padding": "[top=44,left=12,bottom=12,right=12]", "elk.spacing.nodeNode": "14", "elk.nodeSize.constraints": "MINIMUM_SIZE", "elk.nodeSize.minimum": `(${nodeWidth(node)}, 60)` },
      children: scopes.map((scope, index) => ({
        id: "scope:" + scope.id, label: scope.label,
        layoutOptions: { ...layered, "elk.padding": "[top=28,left=14,bottom=14,right=14]", "elk.priority": String(scopes.length - index) },
        children: scope.nodes.map(child), edges: edgesOf(scope.id),
      })),
    };
  };
  const root = graph.scopes.find((s) => s.owner === null);
  return { id: "root", layoutOptions: { ...layered, "elk.padding": "[top=16,left=16,bottom=16,right=16]" }, children: root.nodes.map(child), edges: edgesOf(root.id) };
}

async function drawGraph(container, graph, onSelect) {
  const laid = await new ELK().layout(elkGraph(graph));
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const picture = svg("svg", { width: laid.width, height: laid.height, viewBox: `0 0 ${laid.width} ${laid.height}` });
  picture.append(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#64748b" })),
    svg("marker", { id: "arrow-catch", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#ea580c" }))));
  const edgeLayer = svg("g", {}), nodeLayer = svg("g", {});
  const drawn = new Map();
  const place = (box, dx, dy) => {
    for (const item of box.children || []) {
      const x = dx + item.x, y = dy + item.y;
      if (item.id.startsWith("scope:")) {
        nodeLayer.append(svg("rect", { class: "frame", x, y, width: item.width, height: item.height, rx: 8 }),
          svg("text", { class: "frame-label", x: x + 8, y: y + 16 }, item.label));
      } else {
        const group = drawNode(nodes.get(item.id), x, y, item.width, item.height, !!item.children);
        group.addEventListener("click", (event) => { event.stopPropagation(); onSelect(item.id); });
        nodeLayer.append(group);
        drawn.set(item.id, group);
      }
      place(item, x, y);
    }
    for (const edge of box.edges || []) edgeLayer.append(drawEdge(edge, dx, dy));
  };
  place(laid, 0, 0);
  picture.append(nodeLayer, edgeLayer);
  fill(container, picture);
  const view = {
    recolour(next) {
      for (const node of next.nodes) {
        const group = drawn.get(node.id);
        if (!group) continue;
        group.setAttribute("data-status", node.status);
        const items = group.querySelector("text.items");
        if (items) items.textContent = itemsSummary(node);
        const title = group.querySelector("title");
        if (title) title.textContent = `${node.name} (${node.type}): ${STATUS_WORDS[node.status] || node.status}`;
      }
    },
    select(id) { for (const [key, group] of drawn) group.classList.toggle("selected", key === id); },
  };
  view.recolour(graph);
  return view;
}

function drawNode(node, x, y, width, height, container) {
  if (node.type === "Start" || node.type === "End") {
    return svg("g", { "data-id": node.id, class: "pseudo-node" },
      svg("circle", { class: "pseudo", cx: x + PSEUDO / 2, cy: y + PSEUDO / 2, r: PSEUDO / 2 }),
      node.type === "End" ? svg("circle", { cx: x + PSEUDO / 2, cy: y + PSEUDO / 2, r: PSEUDO / 2 + 3, fill: "none", stroke: "#334155" }) : null);
  }
  const classes = ["node", node.diagnostics.length ? "diagnosed" : ""].join(" ").trim();
  const group = svg("g", { class: classes, "data-id": node.id, "data-name": node.name, "data-status": node.status },
    svg("title", {}, node.name),
    svg("rect", { class: "box", x, y, width, height, rx: node.type === "Choice" ? 18 : 8 }),
    svg("text", { class: "name", x: x + width / 2, y: y + (container ? 18 : height / 2 - 2), "text-anchor": "middle" }, node.name),
    svg("text", { class: "type", x: x + width / 2, y: y + (container ? 32 : height / 2 + 12), "text-anchor": "middle" }, node.type));
  if (node.type === "Map") group.append(svg("text", { class: "items", x: x + width - 10, y: y + 18, "text-anchor": "end" }, ""));
  if (node.diagnostics.length) {
    group.append(svg("circle", { class: "badge-dot", cx: x + width - 2, cy: y + 2, r: 9 }),
      svg("text", { class: "badge-count", x: x + width - 2, y: y + 6, "text-anchor": "middle" }, node.diagnostics.length));
  }
  return group;
}

function itemsSummary(node) {
  const last = node.visits[node.visits.length - 1];
  if (!last || !Object.keys(last.items).length) return "";
  const counts = {};
  for (const status of Object.values(last.items)) counts[status] = (counts[status] || 0) + 1;
  const done = (counts.SUCCEEDED || 0), total = Object.keys(last.items).length;
  return `${done}/${total} items` + (counts.FAILED ? ` · ${counts.FAILED} failed` : "");
}

function drawEdge(edge, dx, dy) {
  const group = svg("g", {});
  for (const section of edge.sections || []) {
    const points = [section.startPoint, ...(section.bendPoints || []), section.endPoint];
    const kind = edge.kind === "catch" ? "catch" : edge.kind === "default" ? "default" : "";
    group.append(svg("polyline", {
      class: `edge ${kind}`, points: points.map((p) => `${p.x + dx},${p.y + dy}`).join(" "),
      "marker-end": edge.kind === "catch" ? "url(#arrow-catch)" : "url(#arrow)",
    }));
  }
  for (const label of edge.labels || []) {
    group.append(svg("text", { class: `edge-label ${edge.kind === "catch" ? "catch" : ""}`, x: label.x + dx, y: label.y + dy + 10 }, label.text));
  }
  return group;
}

function legend() {
  return el("div", { class: "legend" }, Object.keys(STATUS_WORDS).map(badge));
}

// --- pages -------------------------------------------------------------------------

const pages = {
  async machines() {
    const data = await api("/console/api/machines" + (params.get("token") ? "?token=" + encodeURIComponent(params.get("token")) : ""));
    const rows = data.machines.map((m) => el("tr", {},
      el("td", {}, link(machineHref(m.stateMachineArn), m.name)),
      el("td", {}, m.type),
      el("td", {}, when(m.creationDate)),
      el("td", {}, link("/console/executions?machine=" + encodeURIComponent(m.stateMachineArn), "Executions"))));
    fill(main(),
      el("h1", {}, "State machines"),
      el("p", { class: "muted" }, `${data.machines.length} shown`),
      rows.length ? el("table", {}, el("thead", {}, el("tr", {}, ["Name", "Type", "Created", ""].map((h) => el("th", {}, h)))), el("tbody", {}, rows))
        : el("p", { class: "card" }, "No state machines yet: create one with the API, ", el("code", {}, "stepline create NAME FILE"), " or boto3."),
      data.nextToken ? el("div", { class: "pager" }, link("/console/?token=" + encodeURIComponent(data.nextToken), "Next page →")) : null);
  },

  async machine() {
    const arn = params.get("arn");
    const data = await api("/console/api/machine?arn=" + encodeURIComponent(arn));
    const m = data.machine;
    const graphBox = el("div", { class: "graph", id: "graph" });
    const panel = el("div", { class: "card panel", id: "panel" }, el("p", { class: "muted" }, "Click a state to see its definition's diagnostics."));
    const recent = el("div", {});
    fill(main(),
      el("h1", {}, m.name),
      el("div", { class: "arn" }, m.stateMachineArn),
      el("div", { class: "facts" },
        el("div", {}, el("b", {}, "Type"), m.type),
        el("div", {}, el("b", {}, "Status"), m.status || "ACTIVE"),
        el("div", {}, el("b", {}, "Created"), when(m.creationDate)),
        el("div", {}, el("b", {}, "Revision"), m.revisionId || "–")),
      session.canWrite ? startForm(m.stateMachineArn) : null,
      el("h2", {}, "Definition"),
      el("div", { class: "split" }, graphBox, panel),
      diagnosticsList(data.diagnostics, (id) => { view.select(id); showDiagnostics(panel, data.graph, id); }),
      el("h2", {}, "Versions"),
      table(["Version", "Created"], data.versions.map((v) => [link(machineHref(v.stateMachineVersionArn), v.stateMachineVersionArn.split(":").pop()), when(v.creationDate)]), "No published versions."),
      el("h2", {}, "Aliases"),
      table(["Alias", "Created"], data.aliases.map((a) => [a.stateMachineAliasArn.split(":").pop(), when(a.creationDate)]), "No aliases."),
      el("h2", {}, "Recent executions"), recent);
    const view = await drawGraph(graphBox, data.graph, (id) => { view.select(id); showDiagnostics(panel, data.graph, id); });
    const list = await api("/console/api/executions?machine=" + encodeURIComponent(m.stateMachineArn));
    fill(recent, executionTable(list.executions.slice(0, 10)), el("p", {}, link("/console/executions?machine=" + encodeURIComponent(m.stateMachineArn), "All executions of " + m.name + " →")));
  },

  async executions() {
    const query = new URLSearchParams();
    for (const key of ["status", "q", "machine", "token"]) if (params.get(key)) query.set(key, params.get(key));
    const data = await api("/console/api/executions?" + query);
    const status = el("select", { name: "status", "aria-label": "Status" }, el("option", { value: "" }, "Any status"),
      session.statuses.map((s) => el("option", { value: s, selected: params.get("status") === s }, s)));
    const search = el("input", { type: "search", name: "q", placeholder: "Search by name (3+ characters)", minlength: 3, value: params.get("q") || "", "aria-label": "Name" });
    const form = el("form", { class: "filters", method: "get", action: "/console/executions" }, status, search,
      params.get("machine") ? el("input", { type: "hidden", name: "machine", value: params.get("machine") }) : null,
      el("button", { type: "submit" }, "Filter"));
    status.addEventListener("change", () => form.submit());
    const next = new URLSearchParams(query); next.set("token", data.nextToken || "");
    const first = new URLSearchParams(query); first.delete("token");
    fill(main(),
      el("h1", {}, "Executions"),
      params.get("machine") ? el("p", { class: "muted" }, "State machine ", link(machineHref(params.get("machine")), params.get("machine").split(":").pop())) : null,
      form,
      executionTable(data.executions),
      el("div", { class: "pager" },
        params.get("token") ? link("/console/executions?" + first, "← First page") : null,
        data.nextToken ? link("/console/executions?" + next, "Next page →") : null));
  },

  async execution() {
    const arn = params.get("arn");
    let data = await api("/console/api/execution?arn=" + encodeURIComponent(arn));
    let selected = null;
    const header = el("div", {}), graphBox = el("div", { class: "graph", id: "graph" });
    const panel = el("div", { class: "card panel", id: "panel" });
    const maps = el("div", { id: "map-runs" }), visits = el("div", { id: "visits" });
    fill(main(), header, el("h2", {}, "Graph"), el("div", { class: "split" }, el("div", {}, graphBox, legend()), panel),
      maps, el("h2", {}, "State history"), visits);
    const select = (id) => { selected = id; view.select(id); showState(panel, data, id); };
    const view = await drawGraph(graphBox, data.graph, select);
    const render = () => {
      renderExecutionHeader(header, data, async (action) => {
        try { await api("/console/api/" + action, { executionArn: arn }); await refresh(); } catch (error) { flash(header, error); }
      });
      view.recolour(data.graph);
      if (selected) showState(panel, data, selected); else fill(panel, el("p", { class: "muted" }, "Click a state in the graph to see its input, output, timing and error."));
      renderMaps(maps, data);
      renderVisits(visits, data, select);
    };
    const refresh = async () => { data = await api("/console/api/execution?arn=" + encodeURIComponent(arn)); render(); };
    render();
    const poll = async () => {
      if (data.execution.status !== "RUNNING") { setTimeout(poll, POLL_MS * 3); return; }
      try { await refresh(); } catch (error) { console.warn(error); }
      setTimeout(poll, POLL_MS);
    };
    setTimeout(poll, POLL_MS);
  },

  async validate() {
    const area = el("textarea", { rows: 16, id: "definition", spellcheck: "false" }, JSON.stringify({
      Comment: "Paste a definition; its problems appear on the states.", StartAt: "Hello",
      States: { Hello: { Type: "Pass", Next: "World" }, World: { Type: "Wait", End: true } },
    }, null, 2));
    const type = el("select", { "aria-label": "Type" }, el("option", {}, "STANDARD"), el("option", {}, "EXPRESS"));
    const graphBox = el("div", { class: "graph", id: "graph" });
    const panel = el("div", { class: "card panel" }, el("p", { class: "muted" }, "Click a state to see its diagnostics."));
    const found = el("div", {});
    const check = async () => {
      try {
        const data = await api("/console/api/validate", { definition: area.value, type: type.value });
        const view = await drawGraph(graphBox, data.graph, (id) => { view.select(id); showDiagnostics(panel, data.graph, id); });
        fill(found, diagnosticsList(data.diagnostics, (id) => { view.select(id); showDiagnostics(panel, data.graph, id); }));
      } catch (error) { flash(found, error); }
    };
    fill(main(), el("h1", {}, "Validate a definition"),
      el("p", { class: "muted" }, "The validator's errors and warnings, placed on the states they concern."),
      area, el("div", { class: "row", style: "margin: 10px 0" }, type, el("button", { class: "primary", onclick: check }, "Validate")),
      found, el("div", { class: "split" }, graphBox, panel));
    await check();
  },
};

// --- page parts --------------------------------------------------------------------

function table(headings, rows, empty) {
  if (!rows.length) return el("p", { class: "muted" }, empty);
  return el("table", {}, el("thead", {}, el("tr", {}, headings.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c))))));
}

function executionTable(items) {
  if (!items.length) return el("p", { class: "card muted" }, "No executions match.");
  return el("table", { id: "executions" }, el("thead", {}, el("tr", {}, ["Name", "State machine", "Status", "Started", "Duration"].map((h) => el("th", {}, h)))),
    el("tbody", {}, items.map((e) => el("tr", { "data-arn": e.executionArn },
      el("td", {}, link(executionHref(e.executionArn), e.name)),
      el("td", {}, link(machineHref(e.stateMachineArn), e.machineName)),
      el("td", {}, badge(e.status), e.redriveCount ? el("span", { class: "muted small" }, ` redriven ×${e.redriveCount}`) : null),
      el("td", {}, when(e.startDate)),
      el("td", {}, duration(e.startDate, e.stopDate))))));
}

function startForm(machineArn) {
  const name = el("input", { placeholder: "Name (optional)", name: "name" });
  const input = el("textarea", { rows: 4, name: "input" }, "{}");
  const box = el("details", { class: "card start-form" }, el("summary", {}, el("b", {}, "Start an execution")), name, input,
    el("div", {}, el("button", { class: "primary", onclick: async () => {
      try {
        const started = await api("/console/api/start", { stateMachineArn: machineArn, name: name.value, input: input.value });
        location.href = executionHref(started.executionArn);
      } catch (error) { flash(box, error); }
    } }, "Start execution")));
  return box;
}

function renderExecutionHeader(header, data, act) {
  const e = data.execution;
  const redrivable = e.redriveStatus === "REDRIVABLE";
  fill(header,
    el("div", { class: "row" },
      el("h1", {}, e.name), badge(e.status), el("span", { class: "spacer" }),
      session.canWrite && e.status === "RUNNING" ? el("button", { class: "danger", id: "stop", onclick: () => confirm("Stop this execution?") && act("stop") }, "Stop execution") : null,
      session.canWrite && redrivable ? el("button", { class: "primary", id: "redrive", onclick: () => act("redrive") }, "Redrive") : null),
    el("div", { class: "arn" }, e.executionArn),
    el("div", { class: "facts" },
      el("div", {}, el("b", {}, "State machine"), link(machineHref(e.stateMachineArn), e.stateMachineArn.split(":").pop())),
      el("div", {}, el("b", {}, "Started"), when(e.startDate)),
      el("div", {}, el("b", {}, "Ended"), when(e.stopDate)),
      el("div", {}, el("b", {}, "Duration"), duration(e.startDate, e.stopDate)),
      el("div", {}, el("b", {}, "Events"), data.events),
      el("div", {}, el("b", {}, "Redrives"), e.redriveCount || 0)),
    e.error || e.cause ? el("div", { class: "error-box", id: "execution-error" }, el("b", {}, e.error || "Error"), el("pre", {}, pretty(e.cause))) : null,
    el("details", {}, el("summary", {}, "Execution input and output"),
      el("b", {}, "Input"), el("pre", {}, pretty(e.input)), el("b", {}, "Output"), el("pre", {}, pretty(e.output))));
}

function showState(panel, data, id) {
  const node = data.graph.nodes.find((n) => n.id === id);
  if (!node) return;
  fill(panel,
    el("h3", {}, node.name), el("div", { class: "row" }, el("span", { class: "muted" }, node.type), badge(node.status)),
    node.resource ? el("div", { class: "arn" }, node.resource) : null,
    node.visits.length ? null : el("p", { class: "muted" }, "Not entered yet."),
    node.visits.slice(-20).map((v) => el("div", { class: "visit" },
      el("div", { class: "row small" }, badge(v.status), v.iteration !== null ? el("span", {}, `item ${v.iteration}`) : null,
        el("span", { class: "muted" }, `${when(v.entered)} · ${duration(v.entered, v.exited)}`), v.attempts > 1 ? el("span", {}, `${v.attempts} attempts`) : null),
      v.error ? el("div", { class: "error-box state-error" }, el("b", {}, v.error), el("pre", {}, pretty(v.cause))) : null,
      Object.keys(v.items).length ? el("div", {}, el("b", { class: "small" }, "Items"), chips(v.items)) : null,
      el("b", { class: "small" }, "Input"), el("pre", {}, pretty(v.input)),
      el("b", { class: "small" }, "Output"), el("pre", {}, pretty(v.output)))),
    node.visits.length > 20 ? el("p", { class: "muted small" }, `The last 20 of ${node.visits.length} visits.`) : null);
}

function showDiagnostics(panel, graph, id) {
  const node = graph.nodes.find((n) => n.id === id);
  if (!node) return;
  fill(panel, el("h3", {}, node.name), el("div", { class: "muted" }, node.type),
    node.diagnostics.length ? node.diagnostics.map((d) => el("p", { class: "notice error" }, d)) : el("p", { class: "muted" }, "No problems here."));
}

function diagnosticsList(found, onPick) {
  if (!found.length) return el("p", { class: "notice", id: "diagnostics" }, "The validator found no problems.");
  return el("table", { id: "diagnostics" }, el("thead", {}, el("tr", {}, ["Severity", "Code", "Where", "Message"].map((h) => el("th", {}, h)))),
    el("tbody", {}, found.map((d) => el("tr", { class: "clickable diagnostic", onclick: () => onPick(placeOf(d.location)) },
      el("td", {}, el("span", { class: `badge ${d.severity}` }, d.severity)), el("td", {}, el("code", {}, d.code)),
      el("td", {}, el("code", {}, d.location || "/")), el("td", {}, d.message)))));
}

function placeOf(pointer) {
  const match = document.querySelectorAll(".graph .node");
  let best = null;
  for (const node of match) {
    const id = node.getAttribute("data-id");
    if ((pointer === id || (pointer || "").startsWith(id + "/")) && (!best || id.length > best.length)) best = id;
  }
  return best;
}

function chips(items) {
  return el("div", { class: "chips" }, Object.entries(items).map(([index, status]) =>
    el("span", { class: `chip ${status}`, title: `item ${index}: ${status}`, "data-status": status }, index)));
}

function renderMaps(container, data) {
  const inline = data.graph.nodes.filter((n) => n.type === "Map" && n.visits.some((v) => Object.keys(v.items).length));
  if (!inline.length && !data.mapRuns.length) { fill(container); return; }
  fill(container, el("h2", {}, "Map runs"),
    inline.map((n) => { const v = n.visits[n.visits.length - 1];
      return el("div", { class: "card", style: "margin-bottom: 10px" }, el("div", { class: "row" }, el("b", {}, n.name), badge(v.status), el("span", { class: "muted small" }, itemsSummary(n))), chips(v.items)); }),
    data.mapRuns.map((run) => el("div", { class: "card", style: "margin-bottom: 10px" },
      el("div", { class: "row" }, el("b", {}, "Map Run " + run.mapRunArn.split(":").pop()), badge(run.status),
        el("span", { class: "muted small" }, Object.entries(run.itemCounts || {}).filter(([k, v]) => v && k !== "total").map(([k, v]) => `${v} ${k}`).join(" · "))),
      el("div", { class: "chips" }, run.items.map((c, i) => el("span", { class: `chip ${c.status}`, title: `${c.name}: ${c.status}` }, i))))));
}

function renderVisits(container, data, select) {
  const all = data.graph.nodes.flatMap((n) => n.visits.map((v) => ({ ...v, nodeId: n.id }))).sort((a, b) => a.eventId - b.eventId);
  const open = new Set([...container.querySelectorAll("tr.detail")].map((row) => row.getAttribute("data-event")));
  const rows = [];
  for (const v of all) {
    const row = el("tr", { class: "clickable", "data-event": v.eventId, "data-state": v.name },
      el("td", {}, v.eventId), el("td", {}, el("b", {}, v.name)), el("td", {}, v.type), el("td", {}, badge(v.status)),
      el("td", {}, v.iteration ?? ""), el("td", {}, when(v.entered)), el("td", {}, duration(v.entered, v.exited)),
      el("td", {}, v.attempts > 1 ? v.attempts : ""), el("td", {}, v.error || ""));
    const detail = el("tr", { class: "detail", "data-event": String(v.eventId) }, el("td", { colspan: 9 },
      el("div", { class: "split", style: "grid-template-columns: 1fr 1fr" },
        el("div", {}, el("b", { class: "small" }, "Input"), el("pre", {}, pretty(v.input))),
        el("div", {}, el("b", { class: "small" }, "Output"), el("pre", {}, pretty(v.output)))),
      v.cause ? el("div", {}, el("b", { class: "small" }, "Cause"), el("pre", {}, pretty(v.cause))) : null));
    detail.hidden = !open.has(String(v.eventId));
    row.addEventListener("click", () => { detail.hidden = !detail.hidden; select(v.nodeId); });
    rows.push(row, detail);
  }
  fill(container, rows.length ? el("table", { id: "history" }, el("thead", {}, el("tr", {},
    ["Event", "State", "Type", "Status", "Item", "Entered", "Duration", "Attempts", "Error"].map((h) => el("th", {}, h)))), el("tbody", {}, rows))
    : el("p", { class: "muted" }, "No state entered yet."));
}

// --- start -------------------------------------------------------------------------

async function start() {
  const page = document.body.dataset.page;
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === page || (page === "execution" && a.dataset.nav === "executions") || (page === "machine" && a.dataset.nav === "machines"));
  try {
    session = await api("/console/api/session");
    const who = document.getElementById("who");
    fill(who, el("span", {}, session.authenticated ? `${session.user}${session.canWrite ? "" : " (read-only)"}` : "no authentication"),
      session.authenticated ? el("form", { method: "post", action: "/console/logout" }, el("button", { type: "submit" }, "Log out")) : null);
    await pages[page]();
  } catch (error) { fail(error); }
}

document.addEventListener("DOMContentLoaded", start);
