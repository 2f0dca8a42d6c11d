// A form built from a tool's JSON Schema (inputSchema): one control per property, typed as the schema says.
// Anything richer than a scalar (objects, arrays, unions) is edited as JSON.
import { h, uid } from './dom.js';

/** Returns { element, read } where read() gives { args, problems } (problems keyed by property). */
export function schemaForm(schema) {
  const properties = Object.entries(schema?.properties ?? {});
  const required = new Set(schema?.required ?? []);
  if (properties.length === 0) {
    return { element: h('p', { class: 'muted small' }, 'This tool takes no arguments.'), read: () => ({ args: {}, problems: {} }) };
  }
  const controls = properties.map(([name, property]) => control(name, property ?? {}, required.has(name)));
  return {
    element: h('div', { class: 'schema-form' }, controls.map((c) => c.element)),
    read() {
      const args = {};
      const problems = {};
      for (const c of controls) {
        c.error.textContent = '';
        try {
          const value = c.read();
          if (value === undefined) {
            if (c.required) throw new Error('Required.');
          } else {
            args[c.name] = value;
          }
        } catch (err) {
          problems[c.name] = err.message;
          c.error.textContent = err.message;
        }
      }
      return { args, problems };
    },
  };
}

function control(name, property, required) {
  const id = uid('arg');
  const type = Array.isArray(property.type) ? property.type.find((t) => t !== 'null') : property.type;
  let input;
  let read;
  if (Array.isArray(property.enum) && property.enum.every((v) => typeof v === 'string')) {
    input = h('select', { id },
      required ? null : h('option', { value: '' }, '—'),
      property.enum.map((v) => h('option', { value: v, selected: v === property.default }, v)));
    read = () => (input.value === '' ? undefined : input.value);
  } else if (type === 'boolean') {
    input = h('input', { id, type: 'checkbox', class: 'switch', checked: property.default === true });
    read = () => input.checked;
  } else if (type === 'number' || type === 'integer') {
    input = h('input', { id, type: 'number', step: type === 'integer' ? '1' : 'any', value: property.default ?? '', min: property.minimum, max: property.maximum });
    read = () => {
      if (input.value.trim() === '') return undefined;
      const n = Number(input.value);
      if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) throw new Error(type === 'integer' ? 'A whole number.' : 'A number.');
      return n;
    };
  } else if (type === 'string') {
    const long = (property.maxLength ?? 0) > 200 || property.format === 'textarea';
    input = h(long ? 'textarea' : 'input', { id, type: long ? null : 'text', value: property.default ?? '', rows: long ? 4 : null, spellcheck: 'false' });
    read = () => (input.value === '' ? undefined : input.value);
  } else {
    input = h('textarea', { id, class: 'mono', rows: 3, spellcheck: 'false', placeholder: type === 'array' ? '[ ]' : '{ }' });
    input.value = property.default === undefined ? '' : JSON.stringify(property.default, null, 2);
    read = () => {
      if (input.value.trim() === '') return undefined;
      try {
        return JSON.parse(input.value);
      } catch {
        throw new Error('Not valid JSON.');
      }
    };
  }
  const error = h('p', { class: 'field-error' });
  const typeLabel = Array.isArray(property.enum) ? 'one of' : type ?? 'JSON';
  const element = h('div', { class: ['field', type === 'boolean' && 'inline'], dataset: { arg: name } },
    type === 'boolean' ? input : null,
    h('label', { for: id }, h('span', { class: 'mono' }, name), required ? h('span', { class: 'req', title: 'required' }, '*') : null,
      h('span', { class: 'type' }, typeLabel)),
    type === 'boolean' ? null : input,
    property.description ? h('p', { class: 'hint' }, property.description) : null,
    error);
  return { name, required, element, error, read };
}
