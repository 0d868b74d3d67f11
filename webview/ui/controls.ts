// Playground controls: Train and Stop, and the settings people try most. Each change goes to the host, which writes it
// into the spec as one undoable edit; the controls then show what the spec says (the spec is the one source of truth).
import type { ViewSettingChange, ViewSettings, ViewSpec, ViewStatus } from '../../extension/protocol/messages';

export interface ControlsEvents {
  change(change: ViewSettingChange): void;
  training(action: 'train' | 'stop'): void;
}

type NumberSetting = 'lr' | 'steps' | 'width' | 'depth' | 'noise';

const NUMBER_FIELDS: { setting: NumberSetting; label: string; title: string; step: string; min: string; integer: boolean }[] = [
  { setting: 'lr', label: 'learning rate', title: 'training.lr: step size of the optimiser', step: 'any', min: '0', integer: false },
  { setting: 'steps', label: 'steps', title: 'training.steps: optimiser steps', step: '100', min: '1', integer: true },
  { setting: 'width', label: 'width', title: 'units of every hidden layer', step: '1', min: '1', integer: true },
  {
    setting: 'depth',
    label: 'depth',
    title: 'number of hidden layers (the last one is repeated or dropped)',
    step: '1',
    min: '1',
    integer: true,
  },
  { setting: 'noise', label: 'noise', title: 'data.noise: standard deviation of the noise', step: 'any', min: '0', integer: false },
];

export class TrainingControls {
  private readonly trainButton: HTMLButtonElement;
  private readonly stopButton: HTMLButtonElement;
  private readonly inputs = new Map<NumberSetting, HTMLInputElement>();
  private readonly rule: HTMLSelectElement;
  private readonly dataset: HTMLSelectElement;
  private readonly datasetLabel: HTMLLabelElement;
  private training = false;
  private editable = false;

  constructor(
    private readonly box: HTMLElement,
    private readonly events: ControlsEvents,
  ) {
    box.classList.add('controls');
    const buttons = box.appendChild(document.createElement('div'));
    buttons.className = 'control-buttons';
    this.trainButton = buttons.appendChild(button('Train', 'Train this spec (POLICE: Train)'));
    this.stopButton = buttons.appendChild(button('Stop', 'Stop its training (POLICE: Stop training)'));
    this.trainButton.addEventListener('click', () => this.events.training('train'));
    this.stopButton.addEventListener('click', () => this.events.training('stop'));
    const grid = box.appendChild(document.createElement('div'));
    grid.className = 'control-grid';
    for (const field of NUMBER_FIELDS) {
      const input = document.createElement('input');
      input.type = 'number';
      input.step = field.step;
      input.min = field.min;
      input.setAttribute('aria-label', field.label);
      input.addEventListener('change', () => {
        const value = Number(input.value);
        if (input.value.trim() === '' || !Number.isFinite(value)) return;
        this.events.change({ setting: field.setting, value: field.integer ? Math.round(value) : value });
      });
      this.inputs.set(field.setting, input);
      grid.append(labelled(field.label, field.title, input));
    }
    this.rule = document.createElement('select');
    this.rule.setAttribute('aria-label', 'shift rule');
    for (const rule of ['fixed', 'majority', 'minimal'] as const)
      this.rule.append(new Option(rule === 'fixed' ? 'fixed (recommended)' : rule, rule));
    this.rule.addEventListener('change', () => {
      const value = this.rule.value;
      if (value === 'fixed' || value === 'majority' || value === 'minimal') this.events.change({ setting: 'rule', value });
    });
    grid.append(labelled('shift rule', "police.rule: how each unit's side on a region is chosen", this.rule));
    this.dataset = document.createElement('select');
    this.dataset.setAttribute('aria-label', 'dataset');
    this.dataset.addEventListener('change', () => this.events.change({ setting: 'dataset', value: this.dataset.value }));
    this.datasetLabel = labelled('dataset', "data.dataset: one of the paper's built-in data sets", this.dataset);
    grid.append(this.datasetLabel);
    box.hidden = true;
  }

  /** The spec's current settings (after every edit the host sends the spec again). */
  show(spec: ViewSpec): void {
    this.editable = spec.editable;
    this.box.hidden = !spec.editable;
    const settings: ViewSettings = spec.settings;
    for (const [setting, input] of this.inputs) {
      // A field being typed in keeps what the user typed.
      if (document.activeElement !== input) input.value = String(settings[setting]);
    }
    this.rule.value = settings.rule;
    this.datasetLabel.hidden = settings.dataset === undefined;
    this.dataset.replaceChildren(...(settings.datasets ?? []).map((name) => new Option(name, name)));
    if (settings.dataset !== undefined) this.dataset.value = settings.dataset;
    this.update();
  }

  setStatus(state: ViewStatus['state']): void {
    this.training = state === 'training';
    this.update();
  }

  private update(): void {
    this.trainButton.disabled = !this.editable || this.training;
    this.stopButton.disabled = !this.training;
    this.box.dataset.training = String(this.training);
  }
}

function button(text: string, title: string): HTMLButtonElement {
  const node = document.createElement('button');
  node.textContent = text;
  node.title = title;
  return node;
}

function labelled(text: string, title: string, control: HTMLElement): HTMLLabelElement {
  const label = document.createElement('label');
  label.title = title;
  const caption = label.appendChild(document.createElement('span'));
  caption.textContent = text;
  label.append(control);
  return label;
}
