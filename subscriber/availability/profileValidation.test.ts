// Profiles from untrusted JSON: accepted as the model, or refused naming the field.
/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON is mutated freely to make it invalid */
import { describe, expect, it } from 'vitest';
import { parseUserProfiles, ProfileValidationError } from './profileValidation.ts';
import { PROFESSIONAL } from '../../test/support/availabilityProfiles.ts';

const clone = (): any => JSON.parse(JSON.stringify(PROFESSIONAL));

function refused(mutate: (j: any) => void): string {
  const j = clone();
  mutate(j);
  try {
    parseUserProfiles(j);
  } catch (e) {
    expect(e).toBeInstanceOf(ProfileValidationError);
    return (e as ProfileValidationError).field;
  }
  throw new Error('accepted');
}

describe('profile validation', () => {
  it('accepts the issue’s professional profile as JSON, unchanged', () => {
    expect(parseUserProfiles(clone())).toEqual(PROFESSIONAL);
  });

  it('refuses bad input naming the field', () => {
    expect(refused((j) => (j.active = 'holiday'))).toBe('active');
    expect(refused((j) => (j.profiles = []))).toBe('profiles');
    expect(refused((j) => (j.profiles[1].timeZone = 'Europe/Atlantis'))).toBe('profiles[1].timeZone');
    expect(refused((j) => (j.profiles[1].modes[0].rules[0].from = '9:00'))).toBe('profiles[1].modes[0].rules[0].from');
    expect(refused((j) => (j.profiles[1].modes[0].rules[0].days = ['monday']))).toBe('profiles[1].modes[0].rules[0].days[0]');
    expect(refused((j) => (j.profiles[1].modes[0].rules[0] = { every: 'year', month: 2, day: 30, from: '00:00', to: '24:00' }))).toBe(
      'profiles[1].modes[0].rules[0].day',
    );
    expect(refused((j) => (j.profiles[1].modes[0].state = { kind: 'transfer', to: { terminal: 'pager' } }))).toBe('profiles[1].modes[0].state.to.terminal');
    expect(refused((j) => (j.profiles[1].modes[0].state = { kind: 'transfer', to: { number: 'mobile' } }))).toBe('profiles[1].modes[0].state.to.number');
    expect(refused((j) => (j.profiles[1].modes[0].appliesTo = { except: ['boss'] }))).toBe('profiles[1].modes[0].appliesTo.except[0]');
    expect(refused((j) => (j.profiles[1].modes[0].appliesTo = { only: [], except: [] }))).toBe('profiles[1].modes[0].appliesTo');
    expect(refused((j) => (j.profiles[1].defaultMode = 'lunch'))).toBe('profiles[1].defaultMode');
    expect(refused((j) => (j.profiles[1].modes[1].name = 'meeting'))).toBe('profiles[1].modes[1].name');
    expect(refused((j) => (j.profiles[1].lists.others = 'maybe'))).toBe('profiles[1].lists.others');
    expect(refused((j) => (j.profiles[0].name = 'professional'))).toBe('profiles[1].name');
  });

  it('the message says what is expected', () => {
    expect(() => parseUserProfiles({ active: 'x', profiles: 'x' })).toThrow('profiles: must be an array');
    expect(() => parseUserProfiles(null)).toThrow('(body): must be an object');
  });
});
