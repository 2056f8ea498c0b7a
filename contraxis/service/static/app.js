// The Contraxis intake page: builds the form from /intake/form, turns it into a native case,
// posts it to /report and shows the clinician report and the patient handout.
// No framework and no network beyond this server: clinics are often offline.
"use strict";

(function () {
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  let form = null;

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  function options(select, values, { unknown = "not known" } = {}) {
    select.replaceChildren(el("option", { value: "", text: unknown }));
    for (const value of values) select.append(el("option", { value, text: value.replace(/[-_]/g, " ") }));
  }

  function tristate(container, name) {
    const legend = container.closest("fieldset").querySelector("legend").textContent;
    for (const [value, text] of [["true", "yes"], ["false", "no"], ["", "not known"]]) {
      const id = `${name}-${value || "unknown"}`;
      const input = el("input", { type: "radio", name, value, id, checked: value === "" });
      container.append(el("label", { for: id }, input, text));
    }
    container.setAttribute("role", "radiogroup");
    container.setAttribute("aria-label", legend);
  }

  // -- body map --

  function regionLabel(code) {
    const region = form.regions.find((r) => r.code === code);
    return region ? region.name : code;
  }

  function updateRegions() {
    const chosen = $$(".region[aria-checked=true]").map((r) => regionLabel(r.dataset.region));
    $("#selected-regions").textContent = chosen.length ? `Selected: ${chosen.join(", ")}.` : "No region selected.";
  }

  function setRegion(node, on) {
    node.setAttribute("aria-checked", on ? "true" : "false");
  }

  function initBodyMap() {
    for (const node of $$(".region")) {
      const label = regionLabel(node.dataset.region);
      node.setAttribute("role", "checkbox");
      node.setAttribute("tabindex", "0");
      node.setAttribute("aria-checked", "false");
      node.setAttribute("aria-label", label);
      node.append(el("title", { text: label }));
      node.addEventListener("click", () => { setRegion(node, node.getAttribute("aria-checked") !== "true"); updateRegions(); });
      node.addEventListener("keydown", (event) => {
        if (event.key === " " || event.key === "Enter") {
          event.preventDefault();
          setRegion(node, node.getAttribute("aria-checked") !== "true");
          updateRegions();
        }
      });
    }
  }

  // -- findings --

  function findingRow(finding, group) {
    const name = `f-${finding.code}`;
    const labelId = `label-${finding.code.replace(/[^A-Za-z0-9]/g, "-")}`;
    const tri = el("div", { class: "tri", role: "radiogroup", "aria-labelledby": labelId });
    for (const [value, text] of [["present", "Present"], ["absent", "Absent"], ["unknown", "Not known"]]) {
      const id = `${name}-${value}`.replace(/[^A-Za-z0-9-]/g, "-");
      const input = el("input", { type: "radio", name, value, id, checked: value === "unknown", "data-code": finding.code });
      tri.append(el("label", { for: id }, input, text));
    }
    const code = el("code", { text: finding.code });
    return el("div", { class: "finding", "data-code": finding.code, "data-name": finding.name.toLowerCase(), "data-group": group },
      el("span", { class: "name", id: labelId }, `${finding.name} `, code), tri);
  }

  function initFindings() {
    const container = $("#finding-groups");
    container.replaceChildren();
    form.finding_groups.forEach((group, i) => {
      const details = el("details", { class: "group", open: i === 0, "data-group": group.id });
      details.append(el("summary", { text: group.label }));
      for (const finding of group.findings) details.append(findingRow(finding, group.id));
      container.append(details);
    });
    $("#finding-filter").addEventListener("input", (event) => {
      const query = event.target.value.trim().toLowerCase();
      for (const details of $$("details.group", container)) {
        let shown = 0;
        for (const row of $$(".finding", details)) {
          const match = !query || row.dataset.name.includes(query) || row.dataset.code.toLowerCase().includes(query);
          row.hidden = !match;
          if (match) shown += 1;
        }
        details.hidden = shown === 0;
        if (query && shown) details.open = true;
      }
    });
  }

  // -- labs, medications, history, imaging, treatments --

  function initLabs() {
    const container = $("#labs");
    for (const lab of form.labs) {
      const id = `lab-${lab.loinc}`;
      container.append(el("div", { class: "field" },
        el("label", { for: id, text: `${lab.name.replace(/-/g, " ")} (${lab.unit}) · LOINC ${lab.loinc}` }),
        el("input", { id, type: "number", step: "any", inputmode: "decimal", "data-loinc": lab.loinc, "data-unit": lab.unit, "data-name": lab.name })));
    }
  }

  let rowCount = 0;
  function addMedication(name = "", days = "") {
    rowCount += 1;
    const n = rowCount;
    const row = el("div", { class: "row medication" },
      el("div", { class: "field" }, el("label", { for: `med-name-${n}`, text: "Drug (generic name)" }),
        el("input", { id: `med-name-${n}`, type: "text", list: "drug-names", class: "med-name", value: name, autocomplete: "off" })),
      el("div", { class: "field" }, el("label", { for: `med-days-${n}`, text: "Days since start" }),
        el("input", { id: `med-days-${n}`, type: "number", min: "0", class: "med-days", value: days })));
    const remove = el("button", { type: "button", text: "Remove", "aria-label": `Remove drug ${n}` });
    remove.addEventListener("click", () => row.remove());
    row.append(remove);
    $("#medications").append(row);
    return row;
  }

  function addTreatment(treatment = "", response = "") {
    rowCount += 1;
    const n = rowCount;
    const which = el("select", { id: `tx-${n}`, class: "tx-name" });
    which.append(el("option", { value: "", text: "choose" }));
    for (const t of form.treatments) which.append(el("option", { value: t.code, text: t.name }));
    which.value = treatment;
    const how = el("select", { id: `tx-response-${n}`, class: "tx-response" });
    options(how, form.responses, { unknown: "choose" });
    how.value = response;
    const row = el("div", { class: "row treatment" },
      el("div", { class: "field" }, el("label", { for: `tx-${n}`, text: "Treatment" }), which),
      el("div", { class: "field" }, el("label", { for: `tx-response-${n}`, text: "Response" }), how));
    const remove = el("button", { type: "button", text: "Remove", "aria-label": `Remove treatment ${n}` });
    remove.addEventListener("click", () => row.remove());
    row.append(remove);
    $("#treatments").append(row);
    return row;
  }

  function initChoices() {
    options($("#sex"), form.sexes.filter((s) => s !== "unknown"));
    options($("#course"), form.courses);
    options($("#severity"), form.severities);
    tristate($("[data-tristate=disabling]"), "disabling");
    tristate($("[data-tristate=family_history]"), "family_history");
    for (const item of form.history) {
      const id = `hx-${item.code.replace(/[^A-Za-z0-9]/g, "-")}`;
      $("#history").append(el("label", { for: id }, el("input", { type: "checkbox", id, value: item.code, class: "history" }), item.name));
    }
    const mri = $("#mri");
    mri.setAttribute("role", "radiogroup");
    mri.setAttribute("aria-label", "Brain MRI result");
    for (const [value, text] of [["", "not known"], ["normal", "normal"], ["abnormal", "abnormal"], ["not_done", "not done"]]) {
      const id = `mri-${value || "unknown"}`;
      mri.append(el("label", { for: id }, el("input", { type: "radio", name: "mri_brain", id, value, checked: value === "" }), text));
    }
    for (const finding of form.imaging_findings) {
      const id = `mri-f-${finding.code.replace(/[^A-Za-z0-9]/g, "-")}`;
      $("#mri-findings").append(el("label", { for: id }, el("input", { type: "checkbox", id, value: finding.code, class: "mri-finding" }), `${finding.name} (${finding.code})`));
    }
    const list = $("#drug-names");
    for (const name of form.drugs) list.append(el("option", { value: name }));
  }

  // -- the case --

  const splitList = (text) => text.split(/[,\s]+/).map((s) => s.trim()).filter(Boolean);

  function number(selector) {
    const value = $(selector).value.trim();
    return value === "" ? undefined : Number(value);
  }

  function buildCase() {
    const c = {};
    const age = number("#age"); if (age !== undefined) c.age = age;
    if ($("#sex").value) c.sex = $("#sex").value;
    const onset = number("#onset_age"); if (onset !== undefined) c.onset_age = onset;
    if ($("#course").value) c.course = $("#course").value;
    c.regions = $$(".region[aria-checked=true]").map((r) => r.dataset.region);
    c.findings = [];
    c.absent = [];
    for (const input of $$("#finding-groups input[type=radio]:checked")) {
      if (input.value === "present") c.findings.push(input.dataset.code);
      if (input.value === "absent") c.absent.push(input.dataset.code);
    }
    for (const code of splitList($("#extra-findings").value)) if (!c.findings.includes(code)) c.findings.push(code);
    c.labs = $$("#labs input").filter((i) => i.value.trim() !== "").map((i) => ({
      loinc: i.dataset.loinc, name: i.dataset.name, value: Number(i.value), unit: i.dataset.unit }));
    c.medications = $$("#medications .medication").map((row) => {
      const name = $(".med-name", row).value.trim().toLowerCase();
      const days = $(".med-days", row).value.trim();
      const item = { name };
      if (days !== "") item.days_since_start = Number(days);
      return item;
    }).filter((m) => m.name);
    c.history = $$("#history input:checked").map((i) => i.value);
    const mri = $("input[name=mri_brain]:checked").value;
    const mriFindings = $$("#mri-findings input:checked").map((i) => i.value);
    if (mri || mriFindings.length) {
      c.imaging = {};
      if (mri) c.imaging.mri_brain = mri;
      if (mriFindings.length) c.imaging.findings = mriFindings;
    }
    const tested = splitList($("#genes-tested").value.toUpperCase());
    const positive = splitList($("#genes-positive").value.toUpperCase());
    if (tested.length || positive.length) c.genetics = { tested: [...new Set([...tested, ...positive])], positive };
    for (const name of ["disabling", "family_history"]) {
      const value = $(`input[name=${name}]:checked`).value;
      if (value) c[name] = value === "true";
    }
    c.treatment_history = $$("#treatments .treatment").map((row) => ({
      treatment: $(".tx-name", row).value, response: $(".tx-response", row).value }))
      .filter((t) => t.treatment || t.response);
    if ($("#severity").value) c.severity = $("#severity").value;
    for (const key of Object.keys(c)) if (Array.isArray(c[key]) && c[key].length === 0) delete c[key];
    return c;
  }

  // The parts of the form that a native reset does not know: regions and added rows.
  function clearCustom() {
    for (const node of $$(".region")) setRegion(node, false);
    updateRegions();
    $("#medications").replaceChildren();
    $("#treatments").replaceChildren();
  }

  function resetForm() {
    $("#intake").reset();
    clearCustom();
  }

  function fillForm(data) {
    const c = data && typeof data === "object" && data.case ? data.case : data;
    resetForm();
    const set = (selector, value) => { if (value !== undefined && value !== null) $(selector).value = String(value); };
    set("#age", c.age); set("#sex", c.sex === "unknown" ? "" : c.sex); set("#onset_age", c.onset_age);
    set("#course", c.course); set("#severity", c.severity);
    for (const code of c.regions || []) {
      const node = $(`.region[data-region="${CSS.escape(code)}"]`);
      if (node) setRegion(node, true);
    }
    updateRegions();
    const extra = [];
    for (const [list, value] of [[c.findings || [], "present"], [c.absent || [], "absent"]]) {
      for (const code of list) {
        const input = $(`#finding-groups input[data-code="${CSS.escape(code)}"][value=${value}]`);
        if (input) input.checked = true;
        else if (value === "present") extra.push(code);
      }
    }
    $("#extra-findings").value = extra.join(", ");
    for (const lab of c.labs || []) {
      const input = $(`#labs input[data-loinc="${CSS.escape(lab.loinc)}"]`);
      if (input) input.value = lab.value;
    }
    for (const med of c.medications || []) addMedication(med.name, med.days_since_start ?? "");
    for (const code of c.history || []) {
      const input = $(`#history input[value="${CSS.escape(code)}"]`);
      if (input) input.checked = true;
    }
    const imaging = c.imaging || {};
    const mri = $(`input[name=mri_brain][value="${imaging.mri_brain || ""}"]`);
    if (mri) mri.checked = true;
    for (const code of imaging.findings || []) {
      const input = $(`#mri-findings input[value="${CSS.escape(code)}"]`);
      if (input) input.checked = true;
    }
    const genetics = c.genetics || {};
    $("#genes-tested").value = (genetics.tested || []).join(", ");
    $("#genes-positive").value = (genetics.positive || []).join(", ");
    for (const name of ["disabling", "family_history"]) {
      const value = c[name] === true ? "true" : c[name] === false ? "false" : "";
      $(`input[name=${name}][value="${value}"]`).checked = true;
    }
    for (const t of c.treatment_history || []) addTreatment(t.treatment, t.response);
  }

  // -- results --

  function showErrors(body) {
    const box = $("#errors");
    box.replaceChildren();
    const problems = (body && body.problems) || [{ field: "", message: "The server could not be reached." }];
    const list = el("ul");
    for (const p of problems) list.append(el("li", { text: p.field ? `${p.field}: ${p.message}` : p.message }));
    box.append(el("div", { class: "errors" }, el("strong", { text: "The case could not be assessed:" }), list));
  }

  function selectTab(which) {
    for (const name of ["report", "handout"]) {
      const on = name === which;
      const tab = $(`#tab-${name}`);
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      $(`#panel-${name}`).hidden = !on;
    }
  }

  async function assess(event) {
    if (event) event.preventDefault();
    const status = $("#status");
    $("#errors").replaceChildren();
    status.textContent = "Assessing…";
    let response;
    try {
      response = await fetch("/report?differential=true", {
        method: "POST", headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(buildCase()),
      });
    } catch (error) {
      status.textContent = "Not assessed.";
      showErrors(null);
      return;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok || !body) {
      status.textContent = "Not assessed.";
      showErrors(body);
      return;
    }
    $("#panel-report").innerHTML = body.report_html;
    $("#panel-handout").innerHTML = body.handout_html;
    $("#result-tabs").hidden = false;
    selectTab("report");
    const a = body.assessment;
    const alerts = a.alerts.length ? `${a.alerts.length} alert${a.alerts.length > 1 ? "s" : ""}` : "no alert";
    status.textContent = `Assessed: ${a.diagnosis || a.summary.phenomenology || "see the report"}; ${alerts}.`;
    $("#results").dataset.assessed = "true";
  }

  function printOne(which) {
    selectTab(which);
    document.body.classList.add(`print-${which}`);
    window.print();
    document.body.classList.remove(`print-${which}`);
  }

  function initResults() {
    $("#tab-report").addEventListener("click", () => selectTab("report"));
    $("#tab-handout").addEventListener("click", () => selectTab("handout"));
    $("#result-tabs").addEventListener("keydown", (event) => {
      if (event.target.getAttribute("role") !== "tab") return;
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        const next = event.target.id === "tab-report" ? "handout" : "report";
        selectTab(next);
        $(`#tab-${next}`).focus();
        event.preventDefault();
      }
    });
    $("#print-report").addEventListener("click", () => printOne("report"));
    $("#print-handout").addEventListener("click", () => printOne("handout"));
  }

  function caseFromHash() {
    const match = /^#case=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
    if (!match) return null;
    try {
      const b64 = match[1].replace(/-/g, "+").replace(/_/g, "/");
      const text = new TextDecoder().decode(Uint8Array.from(atob(b64 + "===".slice((b64.length + 3) % 4)), (ch) => ch.charCodeAt(0)));
      return JSON.parse(text);
    } catch (error) {
      return null;
    }
  }

  async function init() {
    try {
      const response = await fetch("/intake/form", { headers: { accept: "application/json" } });
      form = await response.json();
    } catch (error) {
      $("#status").textContent = "The form could not be loaded from the server.";
      return;
    }
    initChoices();
    initBodyMap();
    initFindings();
    initLabs();
    initResults();
    $("#add-medication").addEventListener("click", () => $(".med-name", addMedication()).focus());
    $("#add-treatment").addEventListener("click", () => $(".tx-name", addTreatment()).focus());
    $("#intake").addEventListener("submit", assess);
    $("#intake").addEventListener("reset", clearCustom);
    $("#load-json").addEventListener("click", () => {
      try {
        fillForm(JSON.parse($("#case-json").value));
        $("#errors").replaceChildren();
      } catch (error) {
        showErrors({ problems: [{ field: "case", message: `not valid JSON: ${error.message}` }] });
      }
    });
    document.body.dataset.ready = "true";
    openLinkedCase();
    window.addEventListener("hashchange", openLinkedCase);
  }

  // A link such as those of the CDS Hooks cards (/#case=<base64url JSON>) opens that case.
  function openLinkedCase() {
    const linked = caseFromHash();
    if (linked) {
      fillForm(linked);
      assess();
    }
  }

  document.addEventListener("DOMContentLoaded", init);
})();
