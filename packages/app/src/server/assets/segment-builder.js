// @ts-check
/**
 * The segment builder (/assets/segment-builder.js): condition rows (field, operator, value) in "all"/"any" groups,
 * nested, over the segment language, kept in step with the JSON textarea both ways, and a live count and sample
 * from /admin/segments/preview.json as the owner edits (debounced). Without this script the page still works:
 * the JSON textarea is the definition that is previewed and saved.
 */

/**
 * What the server lists for the form (segments.ts, `builderOptions`).
 * @typedef {{ purposes: string[], states: string[], rfmLabels: string[], ageBands: string[], categories: string[],
 *   attributes: string[] }} Options
 * @typedef {{ kind: 'condition', field: string, op: string, a: string, b: string }} Condition
 * @typedef {{ kind: 'group', mode: 'all' | 'any', items: SegNode[] }} Group
 * @typedef {Condition | Group} SegNode
 * @typedef {{ ok: true, count: number, profiles: number, sample: Array<{ email: string, subjectId: string }> }
 *   | { ok: false, message: string }} Preview
 */

(() => {
  const root = document.getElementById('segment-builder');
  const textarea = /** @type {HTMLTextAreaElement | null} */ (document.getElementById('segment-json'));
  const live = document.getElementById('segment-live');
  const optionsBlock = document.getElementById('segment-options');
  const jsonError = document.getElementById('segment-json-error');
  if (!root || !textarea || !live || !optionsBlock || !jsonError) return;
  /** @type {Options} */
  const options = JSON.parse(optionsBlock.textContent || '{}');

  /**
   * Each field: its label, its operators and how its value is asked for.
   * @type {Record<string, { label: string, ops: Array<[string, string]>, value: 'none' | 'number' | 'range'
   *   | 'text' | 'days' | 'consent' | string[] }>}
   */
  const fields = {
    consent: {
      label: 'Consent',
      ops: [
        ['is', 'is'],
        ['not', 'is not'],
      ],
      value: 'consent',
    },
    orderCount: {
      label: 'Number of orders',
      ops: [
        ['min', 'at least'],
        ['max', 'at most'],
        ['between', 'between'],
      ],
      value: 'range',
    },
    revenue: {
      label: 'Total spent',
      ops: [
        ['min', 'at least'],
        ['max', 'at most'],
        ['between', 'between'],
      ],
      value: 'range',
    },
    rfmLabel: {
      label: 'RFM group',
      ops: [
        ['is', 'is'],
        ['not', 'is not'],
      ],
      value: options.rfmLabels,
    },
    purchasedCategory: {
      label: 'Bought from category',
      ops: [
        ['ever', 'ever'],
        ['within', 'in the last … days'],
      ],
      value: options.categories,
    },
    purchasedProduct: {
      label: 'Bought product (id)',
      ops: [
        ['ever', 'ever'],
        ['within', 'in the last … days'],
      ],
      value: 'text',
    },
    ageBand: {
      label: 'Age',
      ops: [
        ['is', 'is'],
        ['not', 'is not'],
      ],
      value: options.ageBands,
    },
    country: {
      label: 'Country (2 letters)',
      ops: [
        ['is', 'is'],
        ['not', 'is not'],
      ],
      value: 'text',
    },
    city: {
      label: 'City',
      ops: [
        ['is', 'is'],
        ['not', 'is not'],
      ],
      value: 'text',
    },
    interest: {
      label: 'Told us they like',
      ops: [
        ['is', 'includes'],
        ['not', 'does not include'],
      ],
      value: 'text',
    },
    attribute: {
      label: 'Profile field',
      ops: [
        ['exists', 'is known'],
        ['missing', 'is unknown'],
        ['eq', 'equals'],
      ],
      value: options.attributes,
    },
  };

  // ---- definition (JSON) → model; null with the reason when the form cannot show it ----

  /** @param {string} reason */
  const unsupported = (reason) => {
    throw new Error(reason);
  };

  /**
   * @param {unknown} node
   * @returns {SegNode}
   */
  function toNode(node) {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return unsupported('a part is not an object');
    const entries = Object.entries(node);
    if (entries.length !== 1) return unsupported('a part has more than one key');
    const [key, value] = /** @type {[string, any]} */ (entries[0]);
    if (key === 'all' || key === 'any') {
      if (!Array.isArray(value)) return unsupported(`"${key}" is not a list`);
      return { kind: 'group', mode: key, items: value.map(toNode) };
    }
    if (key === 'not') {
      const inner = toNode(value);
      if (inner.kind !== 'condition') return unsupported('"not" around a group');
      const field = fields[inner.field];
      if (!field?.ops.some(([op]) => op === 'not') || inner.op !== 'is')
        return unsupported(`"not" around ${inner.field}`);
      return { ...inner, op: 'not' };
    }
    /** @type {(field: string, op: string, a?: unknown, b?: unknown) => Condition} */
    const c = (field, op, a = '', b = '') => ({ kind: 'condition', field, op, a: String(a), b: String(b) });
    const one = (/** @type {unknown} */ v) =>
      Array.isArray(v) ? (v.length === 1 ? v[0] : unsupported('a list of values')) : v;
    switch (key) {
      case 'consent':
        return c('consent', 'is', value.purpose, one(value.state));
      case 'orderCount':
      case 'revenue':
        if (value.min !== undefined && value.max !== undefined) return c(key, 'between', value.min, value.max);
        return value.min !== undefined ? c(key, 'min', value.min) : c(key, 'max', value.max);
      case 'rfmLabel':
        return c('rfmLabel', 'is', one(value));
      case 'ageBand':
        return c('ageBand', 'is', one(value));
      case 'purchased': {
        if (value.product !== undefined && value.category !== undefined)
          return unsupported('product and category at once');
        const field = value.product !== undefined ? 'purchasedProduct' : 'purchasedCategory';
        const what = one(value.product ?? value.category);
        return value.withinDays !== undefined ? c(field, 'within', what, value.withinDays) : c(field, 'ever', what);
      }
      case 'location': {
        const keys = Object.keys(value);
        if (keys.length !== 1 || (keys[0] !== 'country' && keys[0] !== 'city'))
          return unsupported('location by region or several places');
        return c(/** @type {string} */ (keys[0]), 'is', one(value[/** @type {string} */ (keys[0])]));
      }
      case 'interests':
        if (value.anyOf?.length !== 1) return unsupported('several interests at once');
        return c('interest', 'is', value.anyOf[0]);
      case 'attribute':
        if (value.exists !== undefined) return c('attribute', value.exists ? 'exists' : 'missing', value.name);
        if (value.eq !== undefined) return c('attribute', 'eq', value.name, value.eq);
        return unsupported('a profile field compared with a list or a range');
      default:
        return unsupported(`"${key}" (e.g. rfm scores)`);
    }
  }

  // ---- model → definition ----

  const num = (/** @type {string} */ s) => (s.trim() === '' || Number.isNaN(Number(s)) ? s : Number(s));

  /**
   * @param {SegNode} node
   * @returns {unknown}
   */
  function toJson(node) {
    if (node.kind === 'group') return { [node.mode]: node.items.map(toJson) };
    const { field, op, a, b } = node;
    /** @type {unknown} */
    let out;
    switch (field) {
      case 'consent':
        out = { consent: { purpose: a, state: b } };
        return op === 'not' ? { not: out } : out;
      case 'orderCount':
      case 'revenue':
        return { [field]: op === 'between' ? { min: num(a), max: num(b) } : { [op]: num(a) } };
      case 'rfmLabel':
      case 'ageBand':
        out = { [field]: a };
        return op === 'not' ? { not: out } : out;
      case 'purchasedCategory':
      case 'purchasedProduct': {
        const what = field === 'purchasedProduct' ? { product: a } : { category: a };
        return { purchased: op === 'within' ? { ...what, withinDays: num(b) } : what };
      }
      case 'country':
      case 'city':
        out = { location: { [field]: a } };
        return op === 'not' ? { not: out } : out;
      case 'interest':
        out = { interests: { anyOf: [a] } };
        return op === 'not' ? { not: out } : out;
      case 'attribute':
        if (op === 'eq') return { attribute: { name: a, eq: num(b) } };
        return { attribute: { name: a, exists: op === 'exists' } };
      default:
        return {};
    }
  }

  // ---- rendering ----

  /** @type {Group} */
  let model = { kind: 'group', mode: 'all', items: [] };

  /**
   * @param {string} tag
   * @param {Record<string, string>} [attrs]
   * @param {Array<globalThis.Node | string>} [children]
   */
  function el(tag, attrs = {}, children = []) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    for (const child of children) e.append(/** @type {any} */ (child));
    return e;
  }

  /**
   * @param {string} label
   * @param {Array<[string, string]>} choices
   * @param {string} value
   * @param {(v: string) => void} onChange
   */
  function select(label, choices, value, onChange) {
    const s = /** @type {HTMLSelectElement} */ (el('select', { 'aria-label': label }));
    for (const [v, text] of choices) {
      const o = /** @type {HTMLOptionElement} */ (el('option', { value: v }, [text]));
      if (v === value) o.selected = true;
      s.append(o);
    }
    s.addEventListener('change', () => onChange(s.value));
    return s;
  }

  /**
   * @param {string} label
   * @param {string} value
   * @param {string} type
   * @param {(v: string) => void} onChange
   */
  function input(label, value, type, onChange) {
    const i = /** @type {HTMLInputElement} */ (el('input', { type, 'aria-label': label, value }));
    if (type === 'number') i.setAttribute('step', 'any');
    i.addEventListener('input', () => onChange(i.value));
    return i;
  }

  /** @param {string[]} list */
  const pairs = (list) => list.map((v) => /** @type {[string, string]} */ ([v, v.replace(/_/g, ' ')]));

  /** A fresh condition of `field` with sensible first values. */
  function freshCondition(field = 'consent') {
    const f = fields[field];
    const first = Array.isArray(f?.value) ? (f.value[0] ?? '') : '';
    /** @type {Condition} */
    const c = { kind: 'condition', field, op: f?.ops[0]?.[0] ?? 'is', a: first, b: '' };
    if (field === 'consent') {
      c.a = options.purposes[0] ?? 'email_marketing';
      c.b = 'granted';
    }
    if (field === 'orderCount') c.a = '1';
    return c;
  }

  /**
   * @param {Condition} c
   * @param {() => void} remove
   */
  function conditionRow(c, remove) {
    const row = el('div', { class: 'seg-row', 'data-field': c.field });
    const f = fields[c.field] ?? fields.consent;
    row.append(
      select(
        'Field',
        Object.entries(fields).map(([k, v]) => [k, v.label]),
        c.field,
        (v) => {
          Object.assign(c, freshCondition(v));
          changed();
        },
      ),
    );
    if (f) row.append(select('Operator', f.ops, c.op, (v) => ((c.op = v), changed())));
    const set = (/** @type {'a' | 'b'} */ k) => (/** @type {string} */ v) => {
      c[k] = v;
      changed(false);
    };
    if (f?.value === 'consent') {
      row.append(select('Purpose', pairs(options.purposes), c.a, (v) => ((c.a = v), changed())));
      row.append(select('State', pairs(options.states), c.b, (v) => ((c.b = v), changed())));
    } else if (f?.value === 'range') {
      row.append(input(c.op === 'between' ? 'From' : 'Value', c.a, 'number', set('a')));
      if (c.op === 'between') row.append(input('To', c.b, 'number', set('b')));
    } else if (Array.isArray(f?.value)) {
      row.append(select('Value', pairs(f.value), c.a, (v) => ((c.a = v), changed())));
      if (c.op === 'within') row.append(input('Days', c.b, 'number', set('b')));
      if (c.op === 'eq') row.append(input('Equals', c.b, 'text', set('b')));
    } else {
      row.append(input('Value', c.a, 'text', set('a')));
      if (c.op === 'within') row.append(input('Days', c.b, 'number', set('b')));
    }
    const x = el('button', { type: 'button', class: 'secondary', 'aria-label': 'Remove this condition' }, ['Remove']);
    x.addEventListener('click', remove);
    row.append(x);
    return row;
  }

  /**
   * @param {Group} g
   * @param {number} depth
   * @param {(() => void) | null} remove
   */
  function groupBox(g, depth, remove) {
    const box = el('div', { class: 'seg-group', 'data-depth': String(depth) });
    const head = el('div', { class: 'seg-head' }, [
      'Match ',
      select(
        'Match',
        [
          ['all', 'all of these'],
          ['any', 'any of these'],
        ],
        g.mode,
        (v) => {
          g.mode = v === 'any' ? 'any' : 'all';
          changed();
        },
      ),
    ]);
    box.append(head);
    g.items.forEach((item, i) => {
      const drop = () => {
        g.items.splice(i, 1);
        changed();
      };
      box.append(item.kind === 'group' ? groupBox(item, depth + 1, drop) : conditionRow(item, drop));
    });
    const actions = el('div', { class: 'seg-actions' });
    const add = el('button', { type: 'button', class: 'secondary' }, ['+ Condition']);
    add.addEventListener('click', () => {
      g.items.push(freshCondition());
      changed();
    });
    actions.append(add);
    if (depth < 3) {
      const sub = el('button', { type: 'button', class: 'secondary' }, ['+ Group']);
      sub.addEventListener('click', () => {
        g.items.push({ kind: 'group', mode: g.mode === 'all' ? 'any' : 'all', items: [freshCondition()] });
        changed();
      });
      actions.append(sub);
    }
    if (remove) {
      const x = el('button', { type: 'button', class: 'secondary' }, ['Remove group']);
      x.addEventListener('click', remove);
      actions.append(x);
    }
    box.append(actions);
    return box;
  }

  function render() {
    root?.replaceChildren(groupBox(model, 0, null));
  }

  // ---- the live count ----

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let asked = 0;

  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const ask = ++asked;
      const definition = textarea?.value ?? '';
      if (!live) return;
      live.setAttribute('aria-busy', 'true');
      try {
        const res = await fetch(`/admin/segments/preview.json?definition=${encodeURIComponent(definition)}`, {
          headers: { accept: 'application/json' },
          credentials: 'same-origin',
        });
        /** @type {Preview} */
        const body = await res.json();
        if (ask !== asked) return;
        live.replaceChildren();
        if (body.ok) {
          live.className = 'notice ok';
          live.append(
            el('strong', { 'data-live-count': String(body.count) }, [String(body.count)]),
            ` of ${body.profiles} profiles match.`,
          );
          if (body.sample.length > 0) {
            const list = el('span', { class: 'small' }, [' Sample: ']);
            body.sample.forEach((s, i) => {
              if (i > 0) list.append(', ');
              list.append(el('a', { href: `/admin/customers/${encodeURIComponent(s.subjectId)}` }, [s.email]));
            });
            live.append(list);
          }
        } else {
          live.className = 'notice error';
          live.append(body.message);
        }
      } catch {
        if (ask === asked && live) {
          live.className = 'notice error';
          live.textContent = 'The count could not be fetched. Try again in a moment.';
        }
      } finally {
        if (ask === asked) live.removeAttribute('aria-busy');
      }
    }, 350);
  }

  // ---- keeping both in step ----

  /** @param {boolean} [redraw] redraw the rows (not while the owner types in one) */
  function changed(redraw = true) {
    if (textarea) textarea.value = JSON.stringify(model.items.length === 0 ? { all: [] } : toJson(model), null, 2);
    if (jsonError) jsonError.hidden = true;
    root?.classList.remove('seg-disabled');
    if (redraw) render();
    schedulePreview();
  }

  function fromTextarea() {
    if (!textarea || !jsonError) return;
    let parsed;
    try {
      parsed = JSON.parse(textarea.value);
    } catch (error) {
      jsonError.hidden = false;
      jsonError.textContent = `The JSON is not valid: ${/** @type {Error} */ (error).message}. The form shows the last valid definition.`;
      root?.classList.add('seg-disabled');
      return;
    }
    try {
      const node = toNode(parsed);
      model = node.kind === 'group' ? node : { kind: 'group', mode: 'all', items: [node] };
      jsonError.hidden = true;
      root?.classList.remove('seg-disabled');
      render();
    } catch (error) {
      jsonError.hidden = false;
      jsonError.textContent = `The form cannot show ${/** @type {Error} */ (error).message}: edit this definition as JSON (it is still previewed and saved).`;
      root?.classList.add('seg-disabled');
    }
    schedulePreview();
  }

  textarea.addEventListener('input', fromTextarea);
  root.hidden = false;
  fromTextarea();
})();
